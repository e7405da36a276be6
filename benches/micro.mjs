// Breaks one edgegate jwtVerify into its parts and times each in the same process
// (interleaved rounds, median), to show where the time goes next to fast-jwt:
//
//   full jwtVerify | the one wasm verify() call | the JS re-parse of header+payload |
//   the native signature check as the host backend does it | fast-jwt's whole verify |
//   an empty wasm call | two awaits of plain values
//
//   node benches/micro.mjs [--algs=HS256,RS256,ES256] [--rounds=7]
// Uses the package's internal wasm glue (pkg-js/dist/wasm/nodejs) directly for the parts.

import { createHmac, createPublicKey, generateKeyPairSync, randomBytes, verify as nodeVerify, constants } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import * as jose from 'jose';
import { createVerifier } from 'fast-jwt';
import * as eg from 'edgegate';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const args = new Map(process.argv.slice(2).map((a) => [a.replace(/^--/, '').split('=')[0], a.split('=')[1] ?? true]));
const ALGS = String(args.get('algs') ?? 'HS256,RS256,ES256').split(',');
const ROUNDS = Number(args.get('rounds') ?? 7);
const CELL_MS = Number(args.get('ms') ?? 80);
const ISS = 'https://issuer.example.com/';
const AUD = 'edgegate-bench';

const W = require(path.join(HERE, 'node_modules/edgegate/pkg-js/dist/wasm/nodejs/edgegate.js'));

function keys(alg) {
  if (alg === 'HS256') {
    const s = randomBytes(32);
    return { sign: s, jwk: { kty: 'oct', k: s.toString('base64url') }, secret: s };
  }
  const p = alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { sign: p.privateKey, jwk: p.publicKey.export({ format: 'jwk' }), pem: p.publicKey.export({ format: 'pem', type: 'spki' }) };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

function syncCell(fn, toks) {
  const n = toks.length;
  return () => {
    let i = 0;
    let ops = 0;
    const end = performance.now() + CELL_MS;
    const c0 = process.cpuUsage();
    while (performance.now() < end) {
      for (let b = 0; b < 32; b++) fn(toks[i++ % n]);
      ops += 32;
    }
    const c = process.cpuUsage(c0);
    return (c.user + c.system) / ops; // CPU us/op
  };
}
function asyncCell(fn, toks) {
  const n = toks.length;
  return async () => {
    let i = 0;
    let ops = 0;
    const end = performance.now() + CELL_MS;
    const c0 = process.cpuUsage();
    while (performance.now() < end) {
      for (let b = 0; b < 32; b++) await fn(toks[i++ % n]);
      ops += 32;
    }
    const c = process.cpuUsage(c0);
    return (c.user + c.system) / ops;
  };
}

const now = Math.floor(Date.now() / 1000);
const rows = [];
for (const alg of ALGS) {
  const k = keys(alg);
  const jwk = { ...k.jwk, kid: 'm1', alg, use: 'sig' };
  const toks = [];
  for (let i = 0; i < 256; i++) {
    toks.push(
      await new jose.SignJWT({ scope: 'read:orders write:orders', roles: ['user', 'viewer'], email: `user${i}@example.com`, email_verified: true, tenant: 'acme' })
        .setProtectedHeader({ alg, typ: 'JWT', kid: 'm1' })
        .setIssuer(ISS)
        .setAudience(AUD)
        .setSubject(`user-${i}`)
        .setJti(`jti-${i}-${randomBytes(6).toString('hex')}`)
        .setIssuedAt(now - 10)
        .setNotBefore(now - 10)
        .setExpirationTime(now + 3600)
        .sign(k.sign),
    );
  }
  const set = eg.createLocalJWKSet({ keys: [jwk] });
  const opts = { issuer: ISS, audience: AUD, algorithms: [alg] };
  const ks = W.KeySet.fromJwks(Buffer.from(JSON.stringify({ keys: [jwk] })), false);
  const wopts = new W.Options(JSON.stringify({ algorithms: [alg], issuer: [ISS], audience: [AUD], requiredClaims: [], crit: [], clockTolerance: 0 }));
  const r0 = W.verify(toks[0], ks, wopts, now, 3);
  if (r0[0] === 2) throw new Error(`wasm verify failed for ${alg}: ${JSON.stringify(W.takeError())}`);
  const fj = createVerifier({ key: k.pem ?? k.secret, algorithms: [alg], allowedIss: ISS, allowedAud: AUD });
  const pub = k.pem ? createPublicKey(k.pem) : null;
  const vkey = alg === 'ES256' ? { key: pub, dsaEncoding: 'ieee-p1363' } : pub;
  const parse2 = (t) => {
    const a = t.indexOf('.');
    const b = t.indexOf('.', a + 1);
    return [JSON.parse(Buffer.from(t.slice(0, a), 'base64url').toString('utf8')), JSON.parse(Buffer.from(t.slice(a + 1, b), 'base64url').toString('utf8'))];
  };
  const native = (t) => {
    const last = t.lastIndexOf('.');
    if (alg === 'HS256') return createHmac('sha256', k.secret).update(t.slice(0, last)).digest();
    return nodeVerify('sha256', Buffer.from(t.slice(0, last), 'latin1'), vkey, Buffer.from(t.slice(last + 1), 'base64url'));
  };
  const val = async (x) => x;
  const cells = {
    'edgegate jwtVerify (full)': asyncCell((t) => eg.jwtVerify(t, set, opts), toks),
    'fast-jwt verify (full)': syncCell(fj, toks),
    'wasm verify() call only': syncCell((t) => W.verify(t, ks, wopts, now, 3), toks),
    'JS re-parse header+payload': syncCell(parse2, toks),
    [alg === 'HS256' ? 'node createHmac (not used today)' : 'native verify as host does']: syncCell(native, toks),
    'empty wasm call (defaultLimits)': syncCell(() => W.defaultLimits(), toks),
    'two awaits of a value': asyncCell(async (t) => {
      await val(t);
      await val(t);
    }, toks),
  };
  const samples = Object.fromEntries(Object.keys(cells).map((c) => [c, []]));
  for (const c of Object.values(cells)) await c(); // warm up
  for (let r = 0; r < ROUNDS; r++) for (const [name, c] of Object.entries(cells)) samples[name].push(await c());
  for (const [name, s] of Object.entries(samples)) rows.push([alg, name, median(s)]);
}
console.log(`node ${process.version}, ${ROUNDS} rounds x ${CELL_MS} ms, median CPU us/op (process.cpuUsage; lower is better)\n`);
console.log('| alg | part | CPU us/op |\n|---|---|---|');
for (const [a, n, v] of rows) console.log(`| ${a} | ${n} | ${v.toFixed(2)} |`);
