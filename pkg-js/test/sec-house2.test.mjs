// Issue 8 (house, part 2): the rules the package used to keep for itself now come from the
// core: duration options are judged by the core's Duration (via the binding).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { importEdgegate } from './helpers/scratch.mjs';

const eg = await importEdgegate();

describe('createRemoteJWKSet duration options: the core decides', () => {
  const URL_ = 'https://idp.example/jwks.json';
  for (const field of ['cacheMaxAge', 'cooldownDuration', 'timeoutDuration', 'maxStale', 'retryAfterError']) {
    it(`${field}: NaN, -Infinity, a negative number or a string is AUTH-015 with the core's text`, () => {
      for (const bad of [NaN, -Infinity, -1, '5s', null]) {
        assert.throws(
          () => eg.createRemoteJWKSet(URL_, { [field]: bad }),
          (e) => eg.isAuthError(e) && e.code === 'AUTH-015' && e.message.includes(`options.${field}`) && /invalid time/.test(e.message),
          `${field}=${String(bad)}`,
        );
      }
    });
    it(`${field}: Infinity means forever, a number is accepted`, () => {
      assert.equal(typeof eg.createRemoteJWKSet(URL_, { [field]: Infinity }), 'function');
      assert.equal(typeof eg.createRemoteJWKSet(URL_, { [field]: 1500 }), 'function');
    });
  }
});

describe('one error text per variant: the core Display reaches JS unchanged', async () => {
  const jose = await import('jose');
  const SECRET = new TextEncoder().encode('house2-test-secret-of-32-bytes-or-more!!');
  const NOW = Math.floor(Date.now() / 1000);
  const sign = (claims) => new jose.SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(SECRET);

  it('expired: jose wording, claim and reason from the core', async () => {
    const t = await sign({ exp: NOW - 100 });
    for (const backend of ['native', 'wasm']) {
      await assert.rejects(eg.jwtVerify(t, SECRET, { backend }), (e) => e.code === 'AUTH-002' && e.message === '"exp" claim timestamp check failed' && e.claim === 'exp' && e.reason === 'check_failed');
    }
  });

  it('maxTokenAge: the core text (jose: "too far in the past")', async () => {
    const t = await sign({ iat: NOW - 7200, exp: NOW + 600 });
    await assert.rejects(eg.jwtVerify(t, SECRET, { maxTokenAge: 60 }), (e) => e.code === 'AUTH-002' && e.message === '"iat" claim timestamp check failed (too far in the past)' && e.claim === 'iat');
  });

  it('a key error carries the core KeyError text', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const jwk = publicKey.export({ format: 'jwk' });
    const t = await sign({ exp: NOW + 600 });
    await assert.rejects(eg.jwtVerify(t, jwk), (e) => e.code === 'AUTH-015' && e.message === 'rsa modulus of 1024 bits is under 2048');
  });
});
