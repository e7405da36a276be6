// Where does edgegate's verify time go? CPU-profiles a tight jwtVerify loop (node:inspector,
// the same sampler as `node --cpu-prof`) and sums self time by category and by function.
//
//   node benches/profile.mjs [--alg=RS256] [--ms=3000] [--repeated] [--cache] [--key=set|jwk|pem] [--out=x.cpuprofile]
//
// --key=jwk / pem: the JWK object / PEM string passed directly with options written inline
// (a new object per call), as `await jwtVerify(token, jwk, { issuer, audience })`.
//
// The .cpuprofile it writes opens in Chrome DevTools (Performance > Load profile).

import { generateKeyPairSync, createSecretKey, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import * as jose from 'jose';
import * as eg from 'edgegate';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const args = new Map(process.argv.slice(2).map((a) => [a.replace(/^--/, '').split('=')[0], a.split('=')[1] ?? true]));
const ALG = String(args.get('alg') ?? 'RS256');
const MS = Number(args.get('ms') ?? 3000);
const REPEATED = args.has('repeated');
const CACHE = args.has('cache');
const KEY = String(args.get('key') ?? 'set');
const OUT = String(args.get('out') ?? path.join(HERE, `profile-${ALG}.cpuprofile`));
const ISS = 'https://issuer.example.com/';
const AUD = 'edgegate-bench';

function keys(alg) {
  if (alg === 'HS256') {
    const s = randomBytes(32);
    return { sign: createSecretKey(s), jwk: { kty: 'oct', k: s.toString('base64url') }, pem: new Uint8Array(s) };
  }
  const p =
    alg === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : alg === 'EdDSA'
        ? generateKeyPairSync('ed25519')
        : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { sign: p.privateKey, jwk: p.publicKey.export({ format: 'jwk' }), pem: p.publicKey.export({ format: 'pem', type: 'spki' }) };
}

const k = keys(ALG);
const jwk = { ...k.jwk, kid: 'p1', alg: ALG, use: 'sig' };
const now = Math.floor(Date.now() / 1000);
const tokens = [];
for (let i = 0; i < (REPEATED ? 1 : 512); i++) {
  tokens.push(
    await new jose.SignJWT({ scope: 'read:orders write:orders', roles: ['user'], email: `u${i}@example.com`, tenant: 'acme' })
      .setProtectedHeader({ alg: ALG, typ: 'JWT', kid: 'p1' })
      .setIssuer(ISS)
      .setAudience(AUD)
      .setSubject(`user-${i}`)
      .setJti(`jti-${i}`)
      .setIssuedAt(now - 10)
      .setExpirationTime(now + 3600)
      .sign(k.sign),
  );
}
const set = eg.createLocalJWKSet({ keys: [jwk] });
const direct = KEY === 'pem' ? k.pem : jwk;
const opts = { issuer: ISS, audience: AUD, algorithms: [ALG], ...(CACHE ? { cache: { max: 1000 } } : {}) };

async function loop(ms) {
  let n = 0;
  const end = performance.now() + ms;
  while (performance.now() < end) {
    if (KEY === 'set') for (let j = 0; j < 64; j++) await eg.jwtVerify(tokens[n++ % tokens.length], set, opts);
    else for (let j = 0; j < 64; j++) await eg.jwtVerify(tokens[n++ % tokens.length], direct, { issuer: ISS, audience: AUD });
  }
  return n;
}

await loop(500); // warm up (JIT, key import, caches)
const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.setSamplingInterval', { interval: 50 });
await session.post('Profiler.start');
const t0 = performance.now();
const n = await loop(MS);
const elapsed = performance.now() - t0;
const { profile } = await session.post('Profiler.stop');
session.disconnect();
writeFileSync(OUT, JSON.stringify(profile));

// self time per node = samples hitting it x interval
const dt = new Map();
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i];
  dt.set(id, (dt.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
}
const total = [...dt.values()].reduce((a, b) => a + b, 0);
const category = (cf) => {
  const u = cf.url || '';
  if (cf.functionName === '(garbage collector)') return 'gc';
  if (cf.functionName === '(idle)') return 'idle (awaiting async work, e.g. threadpool crypto)';
  if (cf.functionName === '(program)') return 'runtime/other';
  if (u.startsWith('wasm://') || /wasm-function|^\$/.test(cf.functionName)) return 'wasm (core)';
  if (u.includes('node_modules/edgegate/') && u.includes('/wasm/')) return 'wasm-bindgen glue (JS)';
  if (u.includes('node_modules/edgegate/')) return 'edgegate JS';
  if (u.includes('internal/crypto') || /^(verify|Verify|verifyOneShot|digest|createHmac)/.test(cf.functionName))
    return 'node:crypto';
  if (u.startsWith('node:') || u === '') return 'node internals / natives';
  return 'other JS (harness, peers)';
};
const byCat = new Map();
const byFn = new Map();
for (const node of profile.nodes) {
  const t = dt.get(node.id) ?? 0;
  if (!t) continue;
  const c = category(node.callFrame);
  byCat.set(c, (byCat.get(c) ?? 0) + t);
  const name = `${node.callFrame.functionName || '(anonymous)'}  ${path.basename(node.callFrame.url || '')}:${node.callFrame.lineNumber + 1}`;
  const key = `${c} | ${name}`;
  byFn.set(key, (byFn.get(key) ?? 0) + t);
}
const pct = (t) => `${((100 * t) / total).toFixed(1).padStart(5)}%`;
const us = (t) => `${(t / n).toFixed(2).padStart(6)} us/op`;
console.log(
  `edgegate jwtVerify ${ALG} key=${KEY} ${REPEATED ? 'repeated' : 'distinct'} tokens${CACHE ? ' cache on' : ''}: ` +
    `${n} ops in ${elapsed.toFixed(0)} ms = ${Math.round((n * 1000) / elapsed)} ops/s, ${((elapsed * 1000) / n).toFixed(2)} us/op`,
);
console.log('\nself time by category:');
for (const [c, t] of [...byCat].sort((a, b) => b[1] - a[1])) console.log(`  ${pct(t)}  ${us(t)}  ${c}`);
console.log('\ntop functions (self time):');
for (const [f, t] of [...byFn].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`  ${pct(t)}  ${us(t)}  ${f}`);
console.log(`\nprofile written to ${OUT}`);
