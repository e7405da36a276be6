// The verify hot path's caches (issue 9, Performance) never change a verdict: compiled
// options are reused only while the caller's option values are the same, options written
// inline (a new object per call) reuse the compiled ones and still see every value, and
// keys passed directly (JWK object, PEM, KeyObject) are imported once per key object.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import * as jose from 'jose';
import { importEdgegate } from './helpers/scratch.mjs';

const eg = await importEdgegate();
const NOW = Math.floor(Date.now() / 1000);
const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const jwk = { ...pair.publicKey.export({ format: 'jwk' }), alg: 'ES256' };
const pem = pair.publicKey.export({ format: 'pem', type: 'spki' });

const sign = (claims) =>
  new jose.SignJWT({ sub: 'u1', iat: NOW - 10, exp: NOW + 600, ...claims }).setProtectedHeader({ alg: 'ES256', typ: 'JWT' }).sign(pair.privateKey);

async function code(p) {
  try {
    await p;
    return 'ok';
  } catch (e) {
    return e.code ?? String(e);
  }
}

describe('compiled options follow the caller\'s values', () => {
  it('a mutated options object (issuer string) is recompiled, not served from the cache', async () => {
    const t = await sign({ iss: 'https://a.example' });
    const opts = { issuer: 'https://a.example' };
    assert.equal(await code(eg.jwtVerify(t, jwk, opts)), 'ok');
    opts.issuer = 'https://b.example';
    assert.equal(await code(eg.jwtVerify(t, jwk, opts)), 'AUTH-001');
  });

  it('a mutated audience array is seen (the compiled copy is a snapshot)', async () => {
    const t = await sign({ aud: 'api' });
    const opts = { audience: ['api'] };
    assert.equal(await code(eg.jwtVerify(t, jwk, opts)), 'ok');
    opts.audience[0] = 'other';
    assert.equal(await code(eg.jwtVerify(t, jwk, opts)), 'AUTH-001');
    opts.audience.push('api');
    assert.equal(await code(eg.jwtVerify(t, jwk, opts)), 'ok');
  });

  it('inline options (a new object per call) with different values are never confused', async () => {
    const t = await sign({ iss: 'https://a.example', aud: 'api' });
    for (let i = 0; i < 3; i++) {
      assert.equal(await code(eg.jwtVerify(t, jwk, { issuer: 'https://a.example', audience: 'api' })), 'ok');
      assert.equal(await code(eg.jwtVerify(t, jwk, { issuer: 'https://b.example', audience: 'api' })), 'AUTH-001');
      assert.equal(await code(eg.jwtVerify(t, jwk, { issuer: 'https://a.example', audience: 'api', subject: 'u2' })), 'AUTH-001');
      assert.equal(await code(eg.jwtVerify(t, jwk, { issuer: 'https://a.example', audience: 'api', algorithms: ['RS256'] })), 'AUTH-001');
      assert.equal(await code(eg.jwtVerify(t, jwk, { issuer: 'https://a.example', audience: 'api', requiredClaims: ['nope'] })), 'AUTH-001');
      assert.equal(await code(eg.jwtVerify(t, jwk, { issuer: 'https://a.example', audience: 'api', maxTokenAge: 1 })), 'AUTH-002');
      assert.equal(await code(eg.jwtVerify(t, jwk, { issuer: 'https://a.example', audience: 'api', typ: 'at+jwt' })), 'AUTH-001');
      assert.equal(await code(eg.jwtVerify(t, jwk, { issuer: 'https://a.example', audience: 'api', clockTolerance: 5 })), 'ok');
    }
  });

  it('an invalid option still fails every call (never cached as valid)', async () => {
    const t = await sign({});
    for (let i = 0; i < 2; i++) assert.equal(await code(eg.jwtVerify(t, jwk, { clockTolerance: 'soon' })), 'AUTH-015');
  });
});

describe('keys passed directly are imported once per key object', () => {
  it('a KeyObject verifies, and a wrong KeyObject fails (per-object cache, not per type)', async () => {
    const t = await sign({});
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    for (let i = 0; i < 3; i++) {
      assert.equal(await code(eg.jwtVerify(t, pair.publicKey)), 'ok');
      assert.equal(await code(eg.jwtVerify(t, other)), 'AUTH-004');
    }
  });

  it('a private KeyObject is refused on every call', async () => {
    const t = await sign({});
    for (let i = 0; i < 2; i++) assert.equal(await code(eg.jwtVerify(t, pair.privateKey)), 'AUTH-015');
  });

  it('JWK object and PEM string: verified repeatedly, a wrong key fails', async () => {
    const t = await sign({});
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    const otherJwk = other.export({ format: 'jwk' });
    const otherPem = other.export({ format: 'pem', type: 'spki' });
    for (let i = 0; i < 3; i++) {
      assert.equal(await code(eg.jwtVerify(t, jwk)), 'ok');
      assert.equal(await code(eg.jwtVerify(t, pem)), 'ok');
      assert.equal(await code(eg.jwtVerify(t, otherJwk)), 'AUTH-004');
      assert.equal(await code(eg.jwtVerify(t, otherPem)), 'AUTH-004');
    }
  });

  it('a KeyObject is imported once (export is not called per verify)', async () => {
    const t = await sign({});
    const k = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const t2 = await new jose.SignJWT({ sub: 'u1', exp: NOW + 600 }).setProtectedHeader({ alg: 'ES256' }).sign(k.privateKey);
    let exports = 0;
    const real = k.publicKey;
    const wrapped = { type: 'public', export: (o) => (exports++, real.export(o)) };
    for (let i = 0; i < 5; i++) assert.equal(await code(eg.jwtVerify(t2, wrapped)), 'ok');
    assert.equal(await code(eg.jwtVerify(t, wrapped)), 'AUTH-004');
    assert.equal(exports, 1);
  });
});
