// The main job, locally (issue 11): the Rust Worker (build/, scripts/build-worker.sh) in
// workerd (Miniflare 4, local KV and Durable Objects) in front of a demo origin, with a local
// OpenID issuer, everything on 127.0.0.1. Walks through the cases, prints a table, then keeps
// serving until Ctrl-C; `--once` exits after the walk-through (status 0 only when every answer
// was the expected one). Run it through scripts/demo.sh (which installs and builds first).
//
// The issuer is a small one signing RS256 with jose: /.well-known/openid-configuration and a
// JWK Set (/jwks.json). The Worker is started with Miniflare rather than `wrangler dev`:
// the same workerd, no network, no account, starts in about a second.
//
// Options: --once, --port N (the Worker's port, default 8787; 0 picks a free one).
import { createServer } from 'node:http';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import * as jose from 'jose';
import { Miniflare } from 'miniflare';
import { clearOfWindowEdge, rustWorkerOptions } from './rust-worker-miniflare.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BUILD = path.join(ROOT, 'build');
const args = process.argv.slice(2);
const once = args.includes('--once');
const portArg = args.indexOf('--port');
const PORT = portArg >= 0 ? Number(args[portArg + 1]) : once ? 0 : Number(process.env.DEMO_PORT ?? 8787);
const AUDIENCE = 'demo-api';
// The burst row: the rate-limited route allows LIMIT requests per minute per user.
const LIMIT = 5;
// The Worker puts the core's responseHeaders (RateLimit-Policy, RateLimit, Retry-After) on
// every response: the burst row requires them on the 429.
const EXPECT_RATELIMIT_HEADERS = process.env.DEMO_EXPECT_RATELIMIT_HEADERS !== '0';

const say = (s) => process.stdout.write(`${s}\n`);

function listen(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${server.address().port}`));
  });
}

if (!existsSync(path.join(BUILD, 'index.js')) || !existsSync(path.join(BUILD, 'index_bg.wasm'))) {
  console.error('demo: build/ is missing; run `bash scripts/demo.sh` (it builds the Rust Worker)');
  process.exit(1);
}
const pkgEsm = path.join(ROOT, 'pkg-js', 'dist', 'esm', 'node-esm.js');
if (!existsSync(pkgEsm)) {
  console.error('demo: pkg-js/dist is missing; run `bash scripts/demo.sh` (it builds the npm package)');
  process.exit(1);
}
const { createApiKey } = await import(pathToFileURL(pkgEsm).href);

// --- the issuer -------------------------------------------------------------------------
const { privateKey, publicKey } = await jose.generateKeyPair('RS256', { extractable: true });
const jwk = { ...(await jose.exportJWK(publicKey)), kid: 'demo-1', alg: 'RS256', use: 'sig' };
let ISSUER = '';
const idp = createServer((req, res) => {
  const json = (body) => {
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=300' });
    res.end(JSON.stringify(body));
  };
  if (req.url === '/.well-known/openid-configuration') {
    json({ issuer: ISSUER, jwks_uri: `${ISSUER}/jwks.json`, id_token_signing_alg_values_supported: ['RS256'] });
  } else if (req.url === '/jwks.json') {
    json({ keys: [jwk] });
  } else {
    res.writeHead(404).end();
  }
});
ISSUER = await listen(idp);

async function token(claims, { exp = 3600 } = {}) {
  const now = Math.floor(Date.now() / 1000);
  return new jose.SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', kid: 'demo-1', typ: 'JWT' })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt(now - 5)
    .setExpirationTime(now + exp)
    .sign(privateKey);
}

// --- the origin: echoes the identity headers it received --------------------------------
const origin = createServer((req, res) => {
  const identity = {};
  for (const [k, v] of Object.entries(req.headers)) if (k.startsWith('x-user-') || k.startsWith('x-auth-')) identity[k] = v;
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ origin: 'demo', method: req.method, path: req.url, identity }));
});
const ORIGIN = await listen(origin);

// --- the Worker ---------------------------------------------------------------------------
const config = {
  providers: [{ type: 'jwt', name: 'demo-idp', issuer: ISSUER, audience: AUDIENCE, jwksUrl: `${ISSUER}/jwks.json`, algorithms: ['RS256'], rolesClaim: 'roles' }],
  apiKeys: { enabled: true },
  revocation: { enabled: true, store: 'kv' },
  rateLimits: [{ name: 'burst', algorithm: 'fixed-window', limit: LIMIT, window: '60s', key: 'sub', store: 'memory' }],
  rateLimitHeaders: true,
  routes: [
    { name: 'public', path: '/public/**', public: true },
    { name: 'admin', path: '/admin/**', roles: ['admin'] },
    { name: 'limited', path: '/limited/**', rateLimits: ['burst'] },
    { name: 'api', path: '/api/**', providers: ['demo-idp', 'apiKey'] },
  ],
};
const logs = [];
const mf = new Miniflare(
  rustWorkerOptions({
    bindings: { ORIGIN_URL: ORIGIN, AUTH_ENABLED: 'true', EDGEGATE_CONFIG: JSON.stringify(config) },
    logs,
    host: '127.0.0.1',
    port: PORT,
  }),
);
let shuttingDown = false;
async function shutdown(code) {
  if (shuttingDown) return;
  shuttingDown = true;
  await mf.dispose().catch(() => {});
  for (const s of [idp, origin]) {
    s.closeAllConnections?.();
    await new Promise((r) => s.close(r));
  }
  process.exit(code);
}
process.on('SIGINT', () => shutdown(0));
process.on('SIGTERM', () => shutdown(0));

const WORKER = (await mf.ready).toString().replace(/\/$/, '');
const kv = await mf.getKVNamespace('EDGEGATE_KV');

// --- credentials ----------------------------------------------------------------------------
const user = await token({ sub: 'alice', roles: ['user'], jti: 'jti-alice' });
const admin = await token({ sub: 'root', roles: ['admin'], jti: 'jti-root' });
const expired = await token({ sub: 'alice', roles: ['user'] }, { exp: -3600 });
const [h, p, s] = user.split('.');
const tampered = `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url')), roles: ['admin'] })).toString('base64url')}.${s}`;
const revoked = await token({ sub: 'bob', roles: ['user'], jti: 'jti-revoked' });
await kv.put('revoked:jti-revoked', '1', { expirationTtl: 86400 });
const burster = await token({ sub: 'burst-user', roles: ['user'] });
const apiKey = createApiKey({ account: 'demo', name: 'ci', roles: ['user'], expiresAt: Math.floor(Date.now() / 1000) + 86400 });
await kv.put(`apikey:${apiKey.record.id}`, JSON.stringify(apiKey.record));

// --- the walk-through ----------------------------------------------------------------------
async function call(p, headers = {}) {
  const res = await fetch(`${WORKER}${p}`, { headers, redirect: 'manual' });
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = { text };
  }
  return { status: res.status, headers: res.headers, body };
}
const bearer = (t) => ({ authorization: `Bearer ${t}` });
const rows = [];
function row(name, curl, expected, got, ok) {
  rows.push({ name, expected, got, ok: Boolean(ok), curl });
}
const code = (r) => r.body?.code ?? (r.body?.origin ? `origin saw ${r.body.identity['x-user-id'] ?? 'no identity'}` : '');
const sid = (r) => r.body?.identity?.['x-user-id'];

const curl = (p, auth, extra = '') => `curl -i ${auth ? `-H "Authorization: Bearer ${auth}" ` : ''}${extra}${WORKER}${p}`;

let r = await call('/public/hello');
row('public route, no token', curl('/public/hello'), '200 from the origin', `${r.status} ${code(r)}`, r.status === 200 && r.body.origin === 'demo' && sid(r) === undefined);

r = await call('/api/hello');
row('no token', curl('/api/hello'), '401 AUTH-005', `${r.status} ${code(r)}`, r.status === 401 && r.body.code === 'AUTH-005' && r.headers.get('www-authenticate') === 'Bearer realm="edgegate"');

r = await call('/api/hello', bearer(user));
row('user token', curl('/api/hello', '$USER_TOKEN'), '200, X-User-Id alice', `${r.status} ${code(r)}`, r.status === 200 && sid(r) === 'alice' && r.body.identity['x-user-roles'] === 'user');

r = await call('/admin/panel', bearer(user));
row('user on the admin route', curl('/admin/panel', '$USER_TOKEN'), '403 AUTH-012', `${r.status} ${code(r)}`, r.status === 403 && r.body.code === 'AUTH-012' && /insufficient_scope/.test(r.headers.get('www-authenticate') ?? ''));

r = await call('/admin/panel', bearer(admin));
row('admin token', curl('/admin/panel', '$ADMIN_TOKEN'), '200, X-User-Id root', `${r.status} ${code(r)}`, r.status === 200 && sid(r) === 'root');

r = await call('/api/hello', bearer(expired));
row('expired token', curl('/api/hello', '$EXPIRED_TOKEN'), '401 AUTH-002', `${r.status} ${code(r)}`, r.status === 401 && r.body.code === 'AUTH-002' && /token expired/.test(r.headers.get('www-authenticate') ?? ''));

r = await call('/admin/panel', bearer(tampered));
row('tampered token (roles: admin)', curl('/admin/panel', '$TAMPERED_TOKEN'), '401 AUTH-004', `${r.status} ${code(r)}`, r.status === 401 && r.body.code === 'AUTH-004');

{
  const answers = [];
  await clearOfWindowEdge(60_000, 3_000); // the burst in one window
  for (let i = 0; i <= LIMIT; i++) answers.push(await call('/limited/x', bearer(burster)));
  const last = answers[LIMIT];
  const okFirst = answers.slice(0, LIMIT).every((a) => a.status === 200);
  const retry = last.headers.get('retry-after');
  const rl = answers[0].headers.get('ratelimit');
  const headersOk = !EXPECT_RATELIMIT_HEADERS || (retry !== null && Number(retry) > 0 && rl !== null);
  row(
    `burst of ${LIMIT + 1} (limit ${LIMIT}/min)`,
    `for i in $(seq ${LIMIT + 1}); do ${curl('/limited/x', '$BURST_TOKEN', '-s -o /dev/null -w "%{http_code} " ')}; done`,
    `${LIMIT}x 200, then 429 AUTH-016${EXPECT_RATELIMIT_HEADERS ? ' + Retry-After' : ''}`,
    `${answers.map((a) => a.status).join(' ')} ${last.body.code ?? ''}${retry ? ` Retry-After: ${retry}` : ' (no Retry-After)'}`,
    okFirst && last.status === 429 && last.body.code === 'AUTH-016' && headersOk,
  );
}

r = await call('/api/hello', bearer(apiKey.key));
row('API key (record in KV)', curl('/api/hello', '$API_KEY'), '200, provider apiKey', `${r.status} ${code(r)} via ${r.body?.identity?.['x-auth-provider'] ?? '-'}`, r.status === 200 && r.body.identity['x-auth-provider'] === 'apiKey');

r = await call('/api/hello', bearer(revoked));
row('revoked jti (revoked:<jti> in KV)', curl('/api/hello', '$REVOKED_TOKEN'), '401 AUTH-010', `${r.status} ${code(r)}`, r.status === 401 && r.body.code === 'AUTH-010');

r = await call('/api/hello', { ...bearer(user), 'x-user-id': 'mallory', 'x-user-roles': 'admin' });
row('forged X-User-Id + user token', curl('/api/hello', '$USER_TOKEN', "-H 'X-User-Id: mallory' "), 'origin sees alice', `${r.status} ${code(r)}`, r.status === 200 && sid(r) === 'alice' && r.body.identity['x-user-roles'] === 'user');

r = await call('/public/hello', { 'x-user-id': 'mallory' });
row('forged X-User-Id, public route', curl('/public/hello', '', "-H 'X-User-Id: mallory' "), 'stripped', `${r.status} ${code(r)}`, r.status === 200 && sid(r) === undefined);

// --- the report ----------------------------------------------------------------------------
say('');
say(`edgegate demo: the Rust Worker in workerd at ${WORKER}`);
say(`  issuer ${ISSUER} (RS256, /.well-known/openid-configuration, /jwks.json), origin ${ORIGIN}`);
say('');
say('Credentials (local demo keys, valid 1 h):');
say(`  export USER_TOKEN=${user}`);
say(`  export ADMIN_TOKEN=${admin}`);
say(`  export EXPIRED_TOKEN=${expired}`);
say(`  export TAMPERED_TOKEN=${tampered}`);
say(`  export REVOKED_TOKEN=${revoked}`);
say(`  export BURST_TOKEN=${burster}`);
say(`  export API_KEY=${apiKey.key}`);
say('');
const pad = (v, n) => String(v).padEnd(n);
const w = [Math.max(...rows.map((x) => x.name.length)), Math.max(...rows.map((x) => x.expected.length)), Math.max(...rows.map((x) => x.got.length))];
say(`${pad('case', w[0])}  ${pad('expected', w[1])}  ${pad('got', w[2])}  ok`);
say(`${'-'.repeat(w[0])}  ${'-'.repeat(w[1])}  ${'-'.repeat(w[2])}  --`);
for (const x of rows) say(`${pad(x.name, w[0])}  ${pad(x.expected, w[1])}  ${pad(x.got, w[2])}  ${x.ok ? 'ok' : 'FAIL'}`);
const failed = rows.filter((x) => !x.ok);
say('');
say(failed.length ? `${failed.length} of ${rows.length} answers were NOT the expected ones` : `all ${rows.length} answers were the expected ones`);
if (once) {
  if (failed.length) say(logs.slice(-20).join('\n'));
  await shutdown(failed.length ? 1 : 0);
} else {
  say('');
  say('Try it (after the exports above):');
  for (const x of rows) say(`  # ${x.name}\n  ${x.curl}`);
  say('');
  say(`Serving on ${WORKER} until Ctrl-C.`);
}
