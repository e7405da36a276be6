// "Change the import line" holds for error handling: one jose-style program (a catch with
// `instanceof errors.X`) runs against jose and against edgegate (ESM and CJS entries) and
// must classify every failure the same way (issue 9).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as jose from 'jose';
import { importEdgegate, requireEdgegate } from './helpers/scratch.mjs';

const eg = await importEdgegate();
const egCjs = requireEdgegate();

const now = Math.floor(Date.now() / 1000);
const { publicKey, privateKey } = await jose.generateKeyPair('ES256', { extractable: true });
const jwk = { ...(await jose.exportJWK(publicKey)), kid: 'k1', alg: 'ES256' };
const other = await jose.generateKeyPair('ES256', { extractable: true });
const secret = new TextEncoder().encode('a-test-secret-that-is-32-bytes!!');

const sign = (claims, header = {}, key = privateKey) =>
  new jose.SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'k1', ...header }).sign(key);

/** The jose program: only jose's API and error classes. */
async function program(lib, token, key, options) {
  const { errors } = lib;
  try {
    const { payload } = await lib.jwtVerify(token, key, options);
    return `ok:${payload.sub}`;
  } catch (e) {
    if (!(e instanceof errors.JOSEError)) return `not a JOSEError: ${e}`;
    if (e instanceof errors.JWTExpired) return `expired:${e.claim}:${e.reason}:${e.payload?.sub}`;
    if (e instanceof errors.JWTClaimValidationFailed) return `claim:${e.claim}:${e.reason}:${e.payload?.sub}`;
    if (e instanceof errors.JWSSignatureVerificationFailed) return 'signature';
    if (e instanceof errors.JWKSNoMatchingKey) return 'no-matching-key';
    if (e instanceof errors.JWKSMultipleMatchingKeys) return 'multiple-keys';
    if (e instanceof errors.JOSEAlgNotAllowed) return 'alg-not-allowed';
    if (e instanceof errors.JWSInvalid || e instanceof errors.JWTInvalid) return 'invalid';
    if (e instanceof errors.JWKSTimeout) return 'timeout';
    return `jose-generic`;
  }
}

const JWKS = () => ({ jose: jose.createLocalJWKSet({ keys: [jwk] }), eg: eg.createLocalJWKSet({ keys: [jwk] }), cjs: egCjs.createLocalJWKSet({ keys: [jwk] }) });

const cases = [
  ['valid', () => sign({ sub: 'u1', iss: 'https://idp', exp: now + 60 }), { issuer: 'https://idp' }, 'ok:u1'],
  ['expired', () => sign({ sub: 'u1', exp: now - 60 }), {}, 'expired:exp:check_failed:u1'],
  ['wrong issuer', () => sign({ sub: 'u1', iss: 'https://evil', exp: now + 60 }), { issuer: 'https://idp' }, 'claim:iss:check_failed:u1'],
  ['wrong audience', () => sign({ sub: 'u1', aud: 'x', exp: now + 60 }), { audience: 'api' }, 'claim:aud:check_failed:u1'],
  ['missing required claim', () => sign({ sub: 'u1' }), { requiredClaims: ['exp'] }, 'claim:exp:missing:u1'],
  ['not yet valid', () => sign({ sub: 'u1', nbf: now + 600 }), {}, 'claim:nbf:check_failed:u1'],
  ['bad signature', () => sign({ sub: 'u1' }, {}, other.privateKey), {}, 'signature'],
  ['unknown kid', () => sign({ sub: 'u1' }, { kid: 'nope' }), {}, 'no-matching-key'],
  ['alg not allowed', () => sign({ sub: 'u1' }), { algorithms: ['RS256'] }, 'alg-not-allowed'],
  ['malformed token', async () => 'not-a-jwt', {}, 'invalid'],
  ['bad base64 header', async () => '!!!.e30.sig', {}, 'invalid'],
];

for (const [name, make, options, expected] of cases) {
  test(`jose program, ${name}: same classification in jose and edgegate`, async () => {
    const token = await make();
    const k = JWKS();
    const viaJose = await program(jose, token, k.jose, options);
    assert.equal(viaJose, expected, 'jose itself');
    assert.equal(await program(eg, token, k.eg, options), expected, 'edgegate ESM');
    assert.equal(await program(egCjs, token, k.cjs, options), expected, 'edgegate CJS');
  });
}

test('edgegate keeps its AUTH codes and adds jose codes as joseCode', async () => {
  const token = await sign({ sub: 'u1', exp: now - 60 });
  const e = await eg.jwtVerify(token, jwk).then(() => null, (x) => x);
  assert.ok(e instanceof eg.errors.JWTExpired);
  assert.ok(e instanceof eg.TokenExpiredError);
  assert.ok(e instanceof eg.AuthError);
  assert.equal(e.code, 'AUTH-002');
  assert.equal(e.joseCode, 'ERR_JWT_EXPIRED');
  assert.equal(eg.errors.JWTExpired.code, jose.errors.JWTExpired.code);
  assert.equal(e.payload.sub, 'u1');
  assert.equal(e instanceof eg.errors.JWTClaimValidationFailed, false, 'jose: JWTExpired is not a JWTClaimValidationFailed');
  assert.equal(e instanceof eg.errors.JWSSignatureVerificationFailed, false);
});

test('every jose error class name exists with jose code', () => {
  for (const name of Object.keys(jose.errors)) {
    assert.equal(typeof eg.errors[name], 'function', `errors.${name}`);
    assert.equal(eg.errors[name].code, jose.errors[name].code, `errors.${name}.code`);
  }
});

test('jose-style construction works and keeps edgegate codes', () => {
  const e = new eg.errors.JWTExpired('"exp" claim timestamp check failed', { sub: 'a' }, 'exp', 'check_failed');
  assert.ok(e instanceof eg.errors.JOSEError);
  assert.ok(e instanceof eg.AuthError);
  assert.equal(e.code, 'AUTH-002');
  assert.equal(e.joseCode, 'ERR_JWT_EXPIRED');
  assert.deepEqual([e.claim, e.reason, e.payload.sub], ['exp', 'check_failed', 'a']);
  const s = new eg.errors.JWSSignatureVerificationFailed();
  assert.equal(s.code, 'AUTH-004');
  assert.ok(s instanceof eg.errors.JWSSignatureVerificationFailed);
  assert.equal(s instanceof eg.errors.JWTExpired, false);
});

test('errors from the CJS and ESM entries match each other\'s jose classes', async () => {
  const token = await sign({ sub: 'u1', exp: now - 60 });
  const e = await egCjs.jwtVerify(token, jwk).then(() => null, (x) => x);
  assert.ok(e instanceof eg.errors.JWTExpired);
  assert.ok(e instanceof eg.errors.JOSEError);
});
