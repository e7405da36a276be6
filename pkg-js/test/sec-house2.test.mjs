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

describe('Gate: the origin-ready path and the client-certificate reading come from the core', () => {
  const FP = 'ab'.repeat(32);
  const config = {
    routes: [
      { name: 'partner', path: '/partner/**', public: true, mtls: { fingerprints: [FP] } },
      { name: 'files', path: '/files/**', public: true },
    ],
  };

  it('forwardPath is the normalized path, percent-encoded for the origin', async () => {
    const gate = eg.Gate.create(config);
    const d = await gate.decide({ method: 'GET', path: '/files/a%3Fb%23c%3Bd%20e/../f%C3%A9?x=1' });
    assert.equal(d.allow, true);
    assert.equal(d.path, '/files/fé');
    assert.equal(d.forwardPath, '/files/f%C3%A9');
    const d2 = await gate.decide({ method: 'GET', path: '/files/a%3Fb%23c%3Bd%20e' });
    assert.equal(d2.forwardPath, '/files/a%3Fb%23c%3Bd%20e');
  });

  it('raw tlsClientAuth facts: only SUCCESS, presented and not revoked is a verified certificate', async () => {
    const gate = eg.Gate.create(config);
    const facts = (o) => ({ method: 'GET', path: '/partner/x', tlsClientAuth: { certPresented: '1', certVerified: 'SUCCESS', certFingerprintSHA256: FP, ...o } });
    assert.equal((await gate.decide(facts({}))).allow, true);
    for (const o of [{ certRevoked: '1' }, { certVerified: 'FAILED:x' }, { certVerified: 'success' }, { certPresented: '0' }, { certPresented: 1 }]) {
      const d = await gate.decide(facts(o));
      assert.equal(d.allow, false, JSON.stringify(o));
      assert.equal(d.code, 'AUTH-013');
    }
  });
});
