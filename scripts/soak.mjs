// The soak (issue 13): the Rust Worker (build/, scripts/build-worker.sh) in local workerd
// (Miniflare) under steady load on loopback for SECONDS, with a key rotation every minute at a
// local issuer, a changing token mix (valid, expired, tampered, API keys, no token, wrong
// role, rate-limited routes) and a time series every 10 s. Run it with `scripts/soak.sh`.
//
// Every request has an expected answer (status and code); anything else is an "unexpected
// answer" and makes the run exit 1. The rate-limited route may answer 200 or 429, and the
// number of 200s must never exceed what the policy allows (checked at the end).
// Memory: the workerd process's RSS (the isolate lives in it; Miniflare exposes no isolate
// heap figure) and the driver's own heap, both sampled every 10 s.
import { readFileSync, readdirSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

import * as jose from 'jose';
import { Miniflare } from 'miniflare';
import { rustWorkerOptions } from './rust-worker-miniflare.mjs';
import { createApiKey } from 'edgegate';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BUILD = path.join(ROOT, 'build');
const SECONDS = Number(process.argv[2] ?? process.env.SOAK_SECONDS ?? 600);
const CONCURRENCY = Number(process.env.SOAK_CONCURRENCY ?? 4);
const ROTATE_MS = Number(process.env.SOAK_ROTATE_MS ?? 60_000);
const ISSUER = 'https://soak-idp.example';
const AUDIENCE = 'api';
const RL_LIMIT = 30;
const RL_WINDOW_S = 10;
if (!Number.isFinite(SECONDS) || SECONDS < 1 || SECONDS > 86_400 || !(ROTATE_MS >= 20_000)) {
  console.error('usage: soak.mjs SECONDS (1..86400); SOAK_ROTATE_MS >= 20000');
  process.exit(2);
}

const listen = (server) => new Promise((r) => server.listen(0, '127.0.0.1', () => r(`http://127.0.0.1:${server.address().port}`)));

// --- origin: answers 200 with the identity it got
const origin = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ user: req.headers['x-user-id'] ?? null }));
  });
});
const originUrl = await listen(origin);

// --- issuer: the JWKS publishes the previous, the current and the next two keys; the signer
// moves to the next key every ROTATE_MS (rolling rotation: a key is published two periods
// before it signs, and caches refresh within 30 s: the core's floor on freshness).
const keys = []; // { kid, privateKey, jwk }
let rotation = 0;
let jwksFetches = 0;
async function newKey(i) {
  const { privateKey, publicKey } = await jose.generateKeyPair('RS256', { extractable: true });
  return { kid: `soak-${i}`, privateKey, jwk: { ...(await jose.exportJWK(publicKey)), kid: `soak-${i}`, alg: 'RS256', use: 'sig' } };
}
keys.push(await newKey(0), await newKey(1), await newKey(2));
const published = () => keys.slice(Math.max(0, rotation - 1), rotation + 3).map((k) => k.jwk);
const idp = http.createServer((req, res) => {
  if (req.url !== '/jwks.json') return res.writeHead(404).end();
  jwksFetches++;
  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=30' });
  res.end(JSON.stringify({ keys: published() }));
});
const idpUrl = await listen(idp);

const config = {
  providers: [{ type: 'jwt', name: 'idp', issuer: ISSUER, audience: AUDIENCE, jwksUrl: `${idpUrl}/jwks.json`, algorithms: ['RS256'], rolesClaim: 'roles' }],
  apiKeys: { enabled: true },
  rateLimits: [{ name: 'soak', algorithm: 'fixed-window', limit: RL_LIMIT, window: `${RL_WINDOW_S}s`, key: 'sub', store: 'memory' }],
  routes: [
    { name: 'public', path: '/public/**', public: true },
    { name: 'admin', path: '/admin/**', roles: ['admin'] },
    { name: 'limited', path: '/rl/**', rateLimits: ['soak'] },
    { name: 'api', path: '/api/**', providers: ['idp', 'apiKey'] },
  ],
};

const mf = new Miniflare(rustWorkerOptions({ bindings: { ORIGIN_URL: originUrl, EDGEGATE_CONFIG: JSON.stringify(config) } }));
await mf.ready;

// API keys in KV: two valid ones; an unknown one is refused.
const kv = await mf.getKVNamespace('EDGEGATE_KV');
const nowS = () => Math.floor(Date.now() / 1000);
const apiKeys = [];
for (const name of ['ci', 'ops']) {
  const c = createApiKey({ account: 'soak', name, roles: ['user'], expiresAt: nowS() + SECONDS + 3600 });
  await kv.put(`apikey:${c.record.id}`, JSON.stringify(c.record));
  apiKeys.push(c.key);
}
const unknownKey = createApiKey({ account: 'soak', name: 'gone', roles: [], expiresAt: nowS() + 3600 }).key;

// --- tokens, re-signed at every rotation with the current key
const sign = (k, claims, exp) =>
  new jose.SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: k.kid, typ: 'JWT' }).setIssuer(ISSUER).setAudience(AUDIENCE).setIssuedAt(nowS() - 5).setExpirationTime(nowS() + exp).sign(k.privateKey);
let tok;
async function resign() {
  const k = keys[rotation];
  const users = await Promise.all(Array.from({ length: 8 }, (_, i) => sign(k, { sub: `u${i}`, roles: ['user'] }, 3600)));
  const admin = await sign(k, { sub: 'root', roles: ['admin'] }, 3600);
  const expired = await sign(k, { sub: 'late', roles: ['user'] }, -120);
  const [h, p, s] = users[0].split('.');
  const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url')), roles: ['admin'] })).toString('base64url');
  const rl = await Promise.all(Array.from({ length: 3 }, (_, i) => sign(k, { sub: `rl${i}`, roles: ['user'] }, 3600)));
  tok = { users, admin, expired, tampered: `${h}.${forged}.${s}`, rl };
}
await resign();

// Request kinds with their expected answers. `rl` may be 200 or 429.
const KINDS = {
  valid: (i) => ({ path: `/api/v${i % 50}`, auth: `Bearer ${tok.users[i % tok.users.length]}`, want: [200] }),
  admin: () => ({ path: '/admin/x', auth: `Bearer ${tok.admin}`, want: [200] }),
  wrongRole: (i) => ({ path: '/admin/x', auth: `Bearer ${tok.users[i % tok.users.length]}`, want: [403, 'AUTH-012'] }),
  expired: () => ({ path: '/api/x', auth: `Bearer ${tok.expired}`, want: [401, 'AUTH-002'] }),
  tampered: () => ({ path: '/admin/x', auth: `Bearer ${tok.tampered}`, want: [401, 'AUTH-004'] }),
  apiKey: (i) => ({ path: '/api/k', auth: `Bearer ${apiKeys[i % apiKeys.length]}`, want: [200] }),
  badKey: () => ({ path: '/api/k', auth: `Bearer ${unknownKey}`, want: [401, 'AUTH-003'] }),
  none: () => ({ path: '/api/x', auth: null, want: [401, 'AUTH-005'] }),
  public: () => ({ path: '/public/p', auth: null, want: [200] }),
  rl: (i) => ({ path: '/rl/x', auth: `Bearer ${tok.rl[i % tok.rl.length]}`, want: 'rl', sub: `rl${i % tok.rl.length}` }),
};
// The mix changes every 10 s phase: weights per kind.
const MIXES = [
  { valid: 6, expired: 1, tampered: 1, apiKey: 2, none: 1, public: 1, rl: 2, wrongRole: 1, admin: 1, badKey: 1 },
  { valid: 2, expired: 3, tampered: 3, apiKey: 1, badKey: 2, none: 1, rl: 4 },
  { apiKey: 5, badKey: 2, valid: 2, rl: 1, public: 2 },
  { rl: 8, valid: 2, tampered: 1 },
  { valid: 3, admin: 2, wrongRole: 2, expired: 1, none: 2, public: 1, apiKey: 1, tampered: 1 },
];
const pick = (mix, n) => {
  const total = Object.values(mix).reduce((a, b) => a + b, 0);
  let x = n % total;
  for (const [k, w] of Object.entries(mix)) {
    if (x < w) return k;
    x -= w;
  }
  return 'valid';
};

// --- memory of the workerd process (a child of this process, or of its children)
function descendants(pid) {
  const out = [];
  let kids = [];
  try {
    for (const t of readdirSync(`/proc/${pid}/task`)) kids.push(...readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').split(' ').filter(Boolean));
  } catch {}
  for (const k of kids) out.push(Number(k), ...descendants(Number(k)));
  return out;
}
function workerdRssMb() {
  let kb = 0;
  for (const pid of descendants(process.pid)) {
    try {
      const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
      if (!comm.startsWith('workerd')) continue;
      const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) kb += Number(m[1]);
    } catch {}
  }
  return kb / 1024;
}

// --- the load
const start = performance.now();
const endAt = start + SECONDS * 1000;
let n = 0;
const total = { requests: 0, unexpected: 0 };
let win = { requests: 0, unexpected: 0, lat: [] };
const rlAllowed = new Map(); // `${sub}:${window}` -> 200s
const examples = [];

async function one() {
  const i = n++;
  const phase = Math.floor((performance.now() - start) / 10_000);
  const kind = pick(MIXES[phase % MIXES.length], i);
  const r = KINDS[kind](i);
  const headers = r.auth ? { authorization: r.auth } : {};
  const t0 = performance.now();
  const sentAt = Date.now();
  let status = 0;
  let code;
  try {
    const res = await mf.dispatchFetch(`https://edgegate.test${r.path}`, { headers, redirect: 'manual' });
    status = res.status;
    const text = await res.text();
    if (res.headers.get('content-type') === 'application/problem+json') code = JSON.parse(text).code;
  } catch (e) {
    code = `exception ${e?.message ?? e}`;
  }
  const ms = performance.now() - t0;
  let ok;
  if (r.want === 'rl') {
    ok = status === 200 || (status === 429 && code === 'AUTH-016');
    if (status === 200) {
      // The window the Worker counted it in is known only when the request was sent and
      // answered within one window (on this side's clock); straddling answers are counted
      // apart (in the total only).
      const w = Math.floor(sentAt / 1000 / RL_WINDOW_S);
      const key = w === Math.floor(Date.now() / 1000 / RL_WINDOW_S) ? `${r.sub}:${w}` : `${r.sub}:straddle`;
      rlAllowed.set(key, (rlAllowed.get(key) ?? 0) + 1);
    }
  } else {
    ok = status === r.want[0] && (r.want[1] === undefined || code === r.want[1]);
  }
  total.requests++;
  win.requests++;
  win.lat.push(ms);
  if (!ok) {
    total.unexpected++;
    win.unexpected++;
    if (examples.length < 10) examples.push(`${kind} ${r.path}: got ${status} ${code ?? ''}, want ${r.want}`);
  }
}

async function loop() {
  while (performance.now() < endAt) await one();
}

const pct = (a, p) => (a.length ? a[Math.min(a.length - 1, Math.floor((a.length * p) / 100))] : 0);
const series = [];
const t0Wall = new Date();
console.log(`soak: ${SECONDS} s, ${CONCURRENCY} concurrent, key rotation every ${ROTATE_MS / 1000} s, loopback only (origin ${originUrl}, issuer ${idpUrl}); started ${t0Wall.toISOString()}`);
console.log('  t(s)  requests  req/s  unexpected  err%   p50(ms)  p99(ms)  workerd RSS(MB)  driver heap(MB)  key');
function report() {
  const lat = win.lat.sort((a, b) => a - b);
  const t = Math.round((performance.now() - start) / 1000);
  const rss = workerdRssMb();
  const heap = process.memoryUsage().heapUsed / 1048576;
  series.push({ t, rss });
  const err = win.requests ? (100 * win.unexpected) / win.requests : 0;
  console.log(
    `${String(t).padStart(6)}  ${String(win.requests).padStart(8)}  ${String(Math.round(win.requests / Math.max(1, t - lastReport))).padStart(5)}  ${String(win.unexpected).padStart(10)}  ${err.toFixed(2).padStart(5)}  ${pct(lat, 50).toFixed(2).padStart(8)}  ${pct(lat, 99).toFixed(2).padStart(7)}  ${rss.toFixed(1).padStart(15)}  ${heap.toFixed(1).padStart(15)}  ${keys[rotation].kid}`,
  );
  win = { requests: 0, unexpected: 0, lat: [] };
  lastReport = t;
}
let lastReport = 0;
const tick = setInterval(report, 10_000);
let rotating = Promise.resolve();
const rot = setInterval(() => {
  rotating = (async () => {
    keys.push(await newKey(keys.length));
    rotation++;
    await resign();
  })();
}, ROTATE_MS);

await Promise.all(Array.from({ length: CONCURRENCY }, loop));
clearInterval(rot);
await rotating;
clearInterval(tick);
if (win.requests) report(); // the last, partial window
await mf.dispose();
for (const s of [origin, idp]) {
  s.closeAllConnections?.();
  await new Promise((r) => s.close(r));
}

// Rate-limit bound: never more than the limit per key and window.
// Per key: no window allowed more than the limit (requests answered within one window), and
// all 200s together (straddling ones included) no more than the limit times the windows.
let rlOver = 0;
const perSub = new Map();
for (const [k, v] of rlAllowed) {
  const [sub, w] = k.split(':');
  const p = perSub.get(sub) ?? { total: 0, windows: new Set() };
  p.total += v;
  if (w !== 'straddle') p.windows.add(w);
  perSub.set(sub, p);
  if (w !== 'straddle' && v > RL_LIMIT) rlOver++, examples.push(`rate limit: ${sub} allowed ${v} in window ${w}, limit ${RL_LIMIT}`);
}
const rlWindows = Math.ceil(SECONDS / RL_WINDOW_S) + 2;
for (const [sub, p] of perSub) if (p.total > RL_LIMIT * rlWindows) rlOver++, examples.push(`rate limit: ${sub} allowed ${p.total} in ${rlWindows} windows`);
const warm = series.find((s) => s.t >= Math.min(60, SECONDS / 2)) ?? series[0];
const last = series[series.length - 1];
const growth = warm && last && warm.rss ? (100 * (last.rss - warm.rss)) / warm.rss : 0;
const unexpected = total.unexpected + rlOver;
console.log(
  `soak done: ${total.requests} requests in ${SECONDS} s, ${unexpected} unexpected (${rlOver} rate-limit windows over the limit), ${rotation} key rotations, ${jwksFetches} JWKS fetches; workerd RSS ${warm?.rss.toFixed(1)} MB at ${warm?.t} s -> ${last?.rss.toFixed(1)} MB at ${last?.t} s (${growth >= 0 ? '+' : ''}${growth.toFixed(1)} %)`,
);
for (const e of examples) console.log(`  unexpected: ${e}`);
console.log(unexpected === 0 ? 'soak: 1 passed, 0 failed' : 'soak: 0 passed, 1 failed');
process.exit(unexpected === 0 ? 0 : 1);
