// The JS API against tokens made by jose (random keys each run), on both backends.
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { describe, it, before } from 'node:test';
import * as jose from 'jose';
import { importEdgegate, requireEdgegate } from './helpers/scratch.mjs';

const eg = await importEdgegate();
const ASYM = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];
const HMAC = { HS256: 32, HS384: 48, HS512: 64 };
const BACKENDS = ['native', 'wasm'];
const NOW = Math.floor(Date.now() / 1000);
const ISS = 'https://issuer.example';

const keys = {};
before(async () => {
  for (const alg of ASYM) {
    const { publicKey, privateKey } = await jose.generateKeyPair(alg, { extractable: true, ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}) });
    const jwk = { ...(await jose.exportJWK(publicKey)), kid: `k-${alg}`, alg, use: 'sig' };
    keys[alg] = { publicKey, privateKey, jwk, spki: await jose.exportSPKI(publicKey) };
  }
  for (const [alg, len] of Object.entries(HMAC)) {
    const secret = new Uint8Array(randomBytes(len));
    keys[alg] = { privateKey: secret, publicKey: secret, secret, jwk: { kty: 'oct', k: jose.base64url.encode(secret), kid: `k-${alg}`, alg } };
  }
});

let serial = 0;
function sign(alg, claims = {}, header = {}) {
  // Every token distinct (a jti), defaults overridable by `claims` (undefined deletes).
  const body = { sub: 'user-1', scope: 'read', iss: ISS, aud: 'api', iat: NOW - 10, exp: NOW + 600, jti: `t${++serial}`, ...claims };
  for (const k of Object.keys(body)) if (body[k] === undefined) delete body[k];
  return new jose.SignJWT(body).setProtectedHeader({ alg, kid: keys[alg].jwk.kid, typ: 'JWT', ...header }).sign(keys[alg].privateKey);
}

function hs256(header, body, secret) {
  const enc = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${enc(header)}.${enc(body)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

function tamperPayload(token) {
  const [h, p, s] = token.split('.');
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
  claims.sub = 'admin';
  return `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`;
}

function flipSignature(token) {
  const [h, p, s] = token.split('.');
  const sig = Buffer.from(s, 'base64url');
  sig[sig.length >> 1] ^= 0x01;
  return `${h}.${p}.${sig.toString('base64url')}`;
}

async function rejects(promise, code) {
  try {
    await promise;
  } catch (e) {
    assert.ok(eg.isAuthError(e), `expected an AuthError, got ${e && e.name}: ${e && e.message}`);
    assert.equal(e.code, code, `expected ${code}, got ${e.code}: ${e.message}`);
    assert.ok(e instanceof Error);
    return e;
  }
  assert.fail(`expected ${code}, but it verified`);
}

for (const backend of BACKENDS) {
  describe(`jose tokens, backend ${backend}`, () => {
    for (const alg of [...ASYM, ...Object.keys(HMAC)]) {
      it(`${alg}: verifies with the JWK, the set, and fails when tampered`, async () => {
        const opts = { issuer: ISS, audience: 'api', algorithms: [alg], backend };
        const token = await sign(alg, { n: 1 });
        const key = alg.startsWith('HS') ? keys[alg].secret : keys[alg].jwk;
        const r1 = await eg.jwtVerify(token, key, opts);
        assert.equal(r1.payload.sub, 'user-1');
        assert.equal(r1.payload.n, 1);
        assert.deepEqual(r1.protectedHeader, { alg, kid: keys[alg].jwk.kid, typ: 'JWT' });
        const r2 = await eg.jwtVerify(token, { keys: [keys[alg].jwk] }, opts);
        assert.deepEqual(r2.payload, r1.payload);
        const JWKS = eg.createLocalJWKSet({ keys: [keys[alg].jwk] });
        const r3 = await eg.jwtVerify(token, JWKS, opts);
        assert.deepEqual(r3.payload, r1.payload);
        await rejects(eg.jwtVerify(tamperPayload(token), key, opts), 'AUTH-004');
        await rejects(eg.jwtVerify(flipSignature(token), JWKS, opts), 'AUTH-004');
        // compactVerify gives the payload bytes.
        const c = await eg.compactVerify(token, key, { backend });
        assert.deepEqual(JSON.parse(new TextDecoder().decode(c.payload)), r1.payload);
        assert.equal(c.protectedHeader.alg, alg);
      });
    }

    it('PEM/SPKI keys verify', async () => {
      for (const alg of ['RS256', 'ES256', 'EdDSA']) {
        const token = await sign(alg);
        const { payload } = await eg.jwtVerify(token, keys[alg].spki, { backend });
        assert.equal(payload.iss, ISS);
      }
    });

    it('a token signed by another key of the same type fails with AUTH-004 or AUTH-001', async () => {
      const other = await jose.generateKeyPair('ES256', { extractable: true });
      const token = await new jose.SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: 'k-ES256' }).sign(other.privateKey);
      await rejects(eg.jwtVerify(token, keys.ES256.jwk, { backend }), 'AUTH-004');
    });

    it('alg pinning: the algorithm comes from the key and the allowlist', async () => {
      const token = await sign('RS256');
      await rejects(eg.jwtVerify(token, keys.RS256.jwk, { backend, algorithms: ['ES256'] }), 'AUTH-001');
      // An RSA public key never becomes an HMAC secret.
      const forged = await new jose.SignJWT({}).setProtectedHeader({ alg: 'HS256', kid: 'k-RS256' }).sign(new TextEncoder().encode(JSON.stringify(keys.RS256.jwk)));
      await rejects(eg.jwtVerify(forged, keys.RS256.jwk, { backend }), 'AUTH-001');
      // alg none
      const none = new jose.UnsecuredJWT({ sub: 'x' }).encode();
      await rejects(eg.jwtVerify(none, keys.RS256.jwk, { backend }), 'AUTH-001');
    });

    it('garbage is AUTH-006 and the message never echoes the token', async () => {
      for (const bad of ['', 'abc', 'a.b', 'a.b.c.d', '!!!.e30.AA', `${'x'.repeat(20000)}.e30.AA`]) {
        const e = await rejects(eg.jwtVerify(bad, keys.HS256.secret, { backend }), 'AUTH-006');
        assert.equal(e.status, 401);
        if (bad.length > 3) assert.ok(!e.message.includes(bad), 'message echoes the token');
      }
      const token = await sign('RS256', {}, {});
      for (const t of [tamperPayload(token), flipSignature(token)]) {
        const e = await rejects(eg.jwtVerify(t, keys.RS256.jwk, { backend }), 'AUTH-004');
        for (const part of t.split('.')) assert.ok(!e.message.includes(part));
      }
    });
  });
}

// A table of claim cases: edgegate's outcome must equal jose's.
const JOSE_CODE = {
  ERR_JWT_EXPIRED: 'AUTH-002',
  ERR_JWT_CLAIM_VALIDATION_FAILED: 'AUTH-001',
  ERR_JWS_SIGNATURE_VERIFICATION_FAILED: 'AUTH-004',
  ERR_JOSE_ALG_NOT_ALLOWED: 'AUTH-001',
  ERR_JWS_INVALID: 'AUTH-006',
  ERR_JWT_INVALID: 'AUTH-001',
  ERR_JOSE_NOT_SUPPORTED: 'AUTH-001',
};

const CASES = [
  ['valid', {}, {}, {}],
  ['expired', { exp: NOW - 100 }, {}, {}],
  ['expired within tolerance', { exp: NOW - 20 }, {}, { clockTolerance: 30 }],
  ['expired beyond tolerance string', { exp: NOW - 100 }, {}, { clockTolerance: '30s' }],
  ['nbf in the future', { nbf: NOW + 100 }, {}, {}],
  ['nbf within tolerance', { nbf: NOW + 10 }, {}, { clockTolerance: '1 minute' }],
  ['issuer matches', {}, {}, { issuer: ISS }],
  ['issuer mismatch', {}, {}, { issuer: 'https://other.example' }],
  ['issuer in list', {}, {}, { issuer: ['https://a.example', ISS] }],
  ['audience mismatch', {}, {}, { audience: 'other' }],
  ['audience array claim', { aud: ['x', 'api'] }, {}, { audience: 'api' }],
  ['audience list option', {}, {}, { audience: ['x', 'api'] }],
  ['subject mismatch', {}, {}, { subject: 'someone' }],
  ['subject match', {}, {}, { subject: 'user-1' }],
  ['maxTokenAge exceeded', { iat: NOW - 3600 }, {}, { maxTokenAge: '5m' }],
  ['maxTokenAge fine', {}, {}, { maxTokenAge: 300 }],
  ['maxTokenAge without iat', { iat: undefined }, {}, { maxTokenAge: 300 }],
  ['iat in the future', { iat: NOW + 3600 }, {}, {}],
  ['required claim missing', {}, {}, { requiredClaims: ['jti'] }],
  ['required claim present', { jti: 'j1' }, {}, { requiredClaims: ['jti'] }],
  ['typ mismatch', {}, { typ: 'JWT' }, { typ: 'at+jwt' }],
  ['typ with application/ prefix', {}, { typ: 'application/at+jwt' }, { typ: 'at+jwt' }],
  ['typ case-insensitive', {}, { typ: 'AT+JWT' }, { typ: 'at+jwt' }],
  ['exp is a string', { exp: 'soon' }, {}, {}],
  ['nbf is a string', { nbf: 'x' }, {}, {}],
  ['iss is a number', { iss: 5 }, {}, { issuer: ISS }],
  ['algorithm not allowed', {}, {}, { algorithms: ['RS256'] }],
  ['unknown crit', {}, { crit: ['foo'], foo: 1 }, {}],
  ['understood crit', {}, { crit: ['foo'], foo: 1 }, { crit: { foo: true } }],
];

describe('claim checks equal jose', () => {
  for (const backend of BACKENDS) {
    for (const [name, claims, header, options] of CASES) {
      it(`${backend}: ${name}`, async () => {
        const secret = keys.HS256.secret;
        const body = { sub: 'user-1', iss: ISS, aud: 'api', iat: NOW - 10, exp: NOW + 600, ...claims };
        for (const k of Object.keys(body)) if (body[k] === undefined) delete body[k];
        // Signed by hand: jose refuses to *sign* a header with an unknown crit.
        const token = hs256({ alg: 'HS256', ...header }, body, secret);
        let expected;
        try {
          await jose.jwtVerify(token, secret, options);
          expected = 'ok';
        } catch (e) {
          expected = JOSE_CODE[e.code] ?? e.code;
        }
        let actual;
        try {
          const r = await eg.jwtVerify(token, secret, { ...options, backend });
          assert.deepEqual(r.payload, body);
          actual = 'ok';
        } catch (e) {
          assert.ok(eg.isAuthError(e), String(e));
          actual = e.code;
        }
        assert.equal(actual, expected);
      });
    }
  }
});

describe('decode and inspect', () => {
  it('decodeJwt / decodeProtectedHeader equal jose', async () => {
    const token = await sign('ES256', { nested: { a: [1, 2] } });
    assert.deepEqual(eg.decodeJwt(token), jose.decodeJwt(token));
    assert.deepEqual(eg.decodeProtectedHeader(token), jose.decodeProtectedHeader(token));
    // Member order is the token's, as in jose.
    assert.deepEqual(Object.keys(eg.decodeJwt(token)), Object.keys(jose.decodeJwt(token)));
    assert.deepEqual(Object.keys(eg.inspectToken(token).claims), Object.keys(jose.decodeJwt(token)));
    // Fractional and huge numbers survive inspection (display precision: milliseconds).
    const frac = hs256({ alg: 'HS256' }, { exp: 2000000000.25, nbf: 1e300 }, keys.HS256.secret);
    const fi = eg.inspectToken(frac, { currentDate: new Date(1999999999250) });
    assert.equal(fi.expiresAt, 2000000000.25);
    assert.equal(fi.expiresIn, 1.25);
    assert.equal(fi.claims.nbf, 1e300);
    assert.throws(() => eg.decodeJwt('nope'), (e) => e.code === 'AUTH-006' && e instanceof eg.TokenDecodeError);
  });

  it('inspectToken reports expiry and warnings, unverified', async () => {
    const token = await sign('RS256', { exp: NOW - 5 });
    const i = eg.inspectToken(token);
    assert.equal(i.verified, false);
    assert.equal(i.header.alg, 'RS256');
    assert.equal(i.claims.sub, 'user-1');
    assert.equal(i.expiresAt, NOW - 5);
    assert.equal(i.expired, true);
    assert.ok(Array.isArray(i.warnings));
    const none = new jose.UnsecuredJWT({ sub: 'x' }).encode();
    const j = eg.inspectToken(none, { currentDate: new Date() });
    assert.equal(j.expiresAt, null);
    assert.ok(j.warnings.length >= 2, `warnings: ${j.warnings}`);
  });
});

describe('errors', () => {
  it('classes carry code, status and type guards', () => {
    const e = new eg.TokenExpiredError();
    assert.ok(e instanceof eg.AuthError && e instanceof Error);
    assert.equal(e.code, 'AUTH-002');
    assert.equal(e.status, 401);
    assert.equal(e.claim, 'exp');
    assert.equal(e.name, 'TokenExpiredError');
    assert.ok(eg.isTokenError(e) && eg.isTokenExpiredError(e) && !eg.isJwksError(e));
    const j = new eg.JwksFetchError('down');
    assert.equal(j.status, 503);
    assert.ok(eg.isJwksError(j) && !eg.isTokenError(j));
    assert.equal(Object.keys(eg.ERROR_CODES).length, 20);
  });

  it('claim errors carry claim and reason', async () => {
    const token = await sign('HS256');
    const e = await rejects(eg.jwtVerify(token, keys.HS256.secret, { issuer: 'https://nope' }), 'AUTH-001');
    assert.equal(e.claim, 'iss');
    assert.equal(e.reason, 'check_failed');
    const x = await rejects(eg.jwtVerify(await sign('HS256', { exp: NOW - 100 }), keys.HS256.secret), 'AUTH-002');
    assert.ok(x instanceof eg.TokenExpiredError);
  });

  it('bad options and keys are configuration errors (AUTH-015)', async () => {
    const token = await sign('HS256');
    await rejects(eg.jwtVerify(token, keys.HS256.secret, { algorithms: ['HS999'] }), 'AUTH-015');
    await rejects(eg.jwtVerify(token, keys.HS256.secret, { clockTolerance: 'soon' }), 'AUTH-015');
    await rejects(eg.jwtVerify(token, { kty: 'RSA', n: 'AQAB', e: 'AQAB' }), 'AUTH-015');
    await rejects(eg.jwtVerify(token, '-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----'), 'AUTH-015');
  });
});

describe('verified-token cache', () => {
  it('hits only the same token, never past exp', async () => {
    const token = await sign('RS256', { exp: NOW + 60 });
    const opts = { cache: { max: 2 }, issuer: ISS };
    const a = await eg.jwtVerify(token, keys.RS256.jwk, opts);
    const b = await eg.jwtVerify(token, keys.RS256.jwk, opts);
    assert.equal(a, b, 'second call is a cache hit');
    assert.ok(Object.isFrozen(b.payload));
    // A different token with the same claims never hits.
    const other = await sign('RS256', { exp: NOW + 60 });
    assert.notEqual(await eg.jwtVerify(other, keys.RS256.jwk, opts), a);
    // A tampered token is not a hit.
    await rejects(eg.jwtVerify(tamperPayload(token), keys.RS256.jwk, opts), 'AUTH-004');
    // Past exp: verified again, and fails.
    await rejects(eg.jwtVerify(token, keys.RS256.jwk, { ...opts, currentDate: new Date((NOW + 120) * 1000) }), 'AUTH-002');
    // Different options: a separate cache (the issuer check runs).
    await rejects(eg.jwtVerify(token, keys.RS256.jwk, { cache: { max: 2 }, issuer: 'https://other' }), 'AUTH-001');
  });

  it('is bounded', async () => {
    const opts = { cache: { max: 3 } };
    const tokens = await Promise.all([1, 2, 3, 4, 5].map((n) => sign('HS256', { n })));
    const first = await eg.jwtVerify(tokens[0], keys.HS256.secret, opts);
    for (const t of tokens.slice(1)) await eg.jwtVerify(t, keys.HS256.secret, opts);
    assert.notEqual(await eg.jwtVerify(tokens[0], keys.HS256.secret, opts), first, 'evicted');
  });
});

describe('module formats', () => {
  it('CJS require gives the same API as ESM; errors are recognised across the two', async () => {
    const cjs = requireEdgegate();
    const names = ['jwtVerify', 'compactVerify', 'createLocalJWKSet', 'createRemoteJWKSet', 'decodeJwt', 'decodeProtectedHeader', 'inspectToken', 'isAuthError', 'isTokenError', 'AuthError', 'TokenExpiredError', 'InvalidTokenError', 'InvalidSignatureError', 'JwksFetchError', 'TokenDecodeError', 'ConfigError'];
    for (const name of names) {
      assert.equal(typeof cjs[name], 'function', name);
      assert.equal(typeof eg[name], 'function', name);
    }
    assert.deepEqual(Object.keys(cjs).sort(), Object.keys(eg).sort());
    // Node >= 20.19 can require() ES modules: then both entries are one instance.
    const [maj, min] = process.versions.node.split('.').map(Number);
    if (maj > 20 || (maj === 20 && min >= 19)) assert.equal(cjs.jwtVerify, eg.jwtVerify);
    const expired = await cjs.jwtVerify(await sign('ES256', { exp: NOW - 100 }), keys.ES256.jwk).catch((e) => e);
    assert.ok(expired instanceof eg.TokenExpiredError && expired instanceof eg.AuthError && eg.isTokenExpiredError(expired));
    assert.ok(!(expired instanceof eg.InvalidSignatureError));
    assert.ok(!(new Error('x') instanceof eg.AuthError));
    const esmErr = await eg.jwtVerify('x', keys.ES256.jwk).catch((e) => e);
    assert.ok(esmErr instanceof cjs.TokenDecodeError && cjs.isTokenError(esmErr));
    const token = await sign('ES256');
    const { payload } = await cjs.jwtVerify(token, keys.ES256.jwk);
    assert.equal(payload.sub, 'user-1');
  });
});
