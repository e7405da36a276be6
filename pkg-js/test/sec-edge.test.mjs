// Regression tests for issue 7, findings 5, 6 and 12, against the packed package and the
// Worker host (examples/js-worker/index.mjs) in workerd (Miniflare) in front of a real origin
// (node:http on 127.0.0.1 recording the raw headers it received):
//  5. a CORS preflight is answered at the edge (204 + the gate's CORS headers), never
//     forwarded, and an unlisted Origin is routed (and denied) like any request;
//  6. identity headers forged with `_` or `.` (`X_User_Id`, CGI-style servers read them as
//     `X-User-Id`) and default names under renamed/disabled identity headers never reach
//     the origin;
// 12. unknown, wrong-secret, expired, revoked and malformed API keys get one answer.
import { after, before, describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

import * as jose from 'jose';
import { Miniflare } from 'miniflare';

import { importEdgegate, repoRoot, scratchDir } from './helpers/scratch.mjs';
import { bundleForWorkerd } from './helpers/workerd.mjs';

const eg = await importEdgegate();
const SECRET = 'sec-edge-test-secret-at-least-32-bytes!';
const ISSUER = 'https://issuer.example';
const APP = 'https://app.example';
const compatibilityDate = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(readFileSync(path.join(repoRoot, 'examples', 'js-worker', 'wrangler.toml'), 'utf8'))[1];

const baseConfig = {
  providers: [{ type: 'jwt', name: 'jwt', issuer: ISSUER, audience: 'api', secret: { env: 'JWT_SECRET' }, algorithms: ['HS256'], rolesClaim: 'roles' }],
  cors: { preflight: true, origins: [APP], headers: ['authorization', 'content-type'], maxAge: 600, credentials: true },
  routes: [
    { name: 'health', path: '/health', methods: ['GET'], public: true },
    { name: 'admin', path: '/admin/**', roles: ['admin'] },
    { name: 'api', path: '/api/**' },
  ],
};

let dir;
let out;
let origin;
let originUrl;
const seen = []; // what the origin received: { method, url, headers: [[name, value]], body }

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'eg-sec-edge-'));
  out = path.join(dir, 'dist');
  mkdirSync(out, { recursive: true });
  await bundleForWorkerd({ stdin: { contents: readFileSync(path.join(repoRoot, 'examples', 'js-worker', 'index.mjs'), 'utf8'), resolveDir: scratchDir, sourcefile: 'worker/index.mjs', loader: 'js' } }, out);
  origin = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const headers = [];
      for (let i = 0; i < req.rawHeaders.length; i += 2) headers.push([req.rawHeaders[i], req.rawHeaders[i + 1]]);
      const got = { method: req.method, url: req.url, headers, body: Buffer.concat(chunks).toString('utf8') };
      seen.push(got);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(got));
    });
  });
  await new Promise((resolve) => origin.listen(0, '127.0.0.1', resolve));
  originUrl = `http://127.0.0.1:${origin.address().port}`;
});

after(async () => {
  if (origin) await new Promise((resolve) => origin.close(resolve));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function withWorker(config, fn) {
  const mf = new Miniflare({
    modules: true,
    scriptPath: path.join(out, 'worker.js'),
    modulesRoot: out,
    modulesRules: [
      { type: 'ESModule', include: ['**/*.js', '**/*.mjs'] },
      { type: 'CompiledWasm', include: ['**/*.wasm'] },
    ],
    compatibilityDate,
    cf: false,
    bindings: { ORIGIN_URL: originUrl, AUTH_ENABLED: 'true', EDGEGATE_CONFIG: JSON.stringify(config), JWT_SECRET: SECRET },
  });
  try {
    await fn((p, init) => mf.dispatchFetch(`https://edgegate.test${p}`, { redirect: 'manual', ...init }));
  } finally {
    await mf.dispose();
  }
}

function token(sub, roles) {
  return new jose.SignJWT({ sub, roles })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(ISSUER)
    .setAudience('api')
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(new TextEncoder().encode(SECRET));
}

/** Header names as a CGI-style server reads them (`_` and `.` as `-`, lowercase). */
const cgi = (name) => name.toLowerCase().replace(/[_.]/g, '-');

test('finding 5: a CORS preflight is answered by the Worker, never forwarded', { timeout: 120_000 }, async () => {
  await withWorker(baseConfig, async (get) => {
    const before = seen.length;
    for (const p of ['/admin/delete-everything', '/api/x', '/not/a/route']) {
      const res = await get(p, {
        method: 'OPTIONS',
        headers: { origin: APP, 'access-control-request-method': 'DELETE', 'access-control-request-headers': 'authorization', 'content-type': 'text/plain' },
        body: 'a body for the origin',
      });
      assert.equal(res.status, 204, `${p}: ${res.status} ${await res.clone().text()}`);
      assert.equal(await res.text(), '');
      assert.equal(res.headers.get('access-control-allow-origin'), APP);
      assert.equal(res.headers.get('access-control-allow-credentials'), 'true');
      assert.equal(res.headers.get('access-control-allow-methods'), 'GET, HEAD, PUT, POST, DELETE, PATCH');
      assert.equal(res.headers.get('access-control-allow-headers'), 'authorization, content-type');
      assert.equal(res.headers.get('access-control-max-age'), '600');
      assert.equal(res.headers.get('vary'), 'Origin');
    }
    assert.equal(seen.length, before, 'no preflight reached the origin');
    // An Origin the config does not list is routed like any request: no token, denied.
    const res = await get('/admin/x', { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'DELETE' }, body: 'x' });
    assert.equal(res.status, 401);
    assert.equal(JSON.parse(await res.text()).code, 'AUTH-005');
    assert.equal(res.headers.get('access-control-allow-origin'), null);
    assert.equal(seen.length, before, 'the origin was not reached');
  });
});

test('finding 6: X_User_Id / X_User_Roles / X_User_Org and dotted variants never reach the origin', { timeout: 120_000 }, async () => {
  const user = await token('alice', ['user']);
  const forged = { X_User_Id: 'admin', X_User_Roles: 'admin', X_User_Org: 'victim', 'X.User.Permissions': '*:*', x_auth_claims: 'e30', 'X-Request-Id': 'kept' };
  const check = (got, expect) => {
    const ident = got.headers.filter(([n]) => /^x-(user|auth)-/.test(cgi(n)));
    // Only the gate's own identity headers, each once, with the gate's values.
    const byName = {};
    for (const [n, v] of ident) {
      assert.ok(!(cgi(n) in byName), `${n} reached the origin twice (a forged copy): ${JSON.stringify(ident)}`);
      byName[cgi(n)] = { n, v };
    }
    for (const [n] of ident) assert.ok(!/[_.]/.test(n), `forged ${n} reached the origin: ${JSON.stringify(ident)}`);
    for (const [k, v] of Object.entries(expect)) assert.equal(byName[k]?.v, v, `${k}: ${JSON.stringify(ident)}`);
    assert.ok(got.headers.some(([n, v]) => n.toLowerCase() === 'x-request-id' && v === 'kept'), 'other headers are forwarded');
  };
  await withWorker(baseConfig, async (get) => {
    const res = await get('/api/x', { headers: { authorization: `Bearer ${user}`, ...forged } });
    assert.equal(res.status, 200);
    check(await res.json(), { 'x-user-id': 'alice', 'x-user-roles': 'user', 'x-user-org': undefined });
    const pub = await get('/health', { headers: forged });
    assert.equal(pub.status, 200);
    check(await pub.json(), { 'x-user-id': undefined, 'x-user-roles': undefined });
  });
  // Renamed and disabled identity headers: the default names are stripped all the same.
  const renamed = { ...baseConfig, identityHeaders: { userId: 'X-Acme-Sub', roles: null, org: null } };
  await withWorker(renamed, async (get) => {
    const res = await get('/api/x', { headers: { authorization: `Bearer ${user}`, 'X-User-Id': 'admin', 'X-User-Roles': 'admin', X_User_Org: 'victim', X_Acme_Sub: 'admin' } });
    assert.equal(res.status, 200);
    const got = await res.json();
    const names = got.headers.map(([n]) => cgi(n));
    for (const h of ['x-user-id', 'x-user-roles', 'x-user-org']) assert.ok(!names.includes(h), `${h} reached the origin: ${JSON.stringify(got.headers)}`);
    const sub = got.headers.filter(([n]) => cgi(n) === 'x-acme-sub');
    assert.deepEqual(sub.map(([, v]) => v), ['alice']);
  });
});

/** `key` + its CRC-32 as 6 base62 digits (the API key format's check). */
function withChecksum(key) {
  let c = 0xffffffff;
  for (const b of new TextEncoder().encode(key)) {
    c ^= b;
    for (let i = 0; i < 8; i++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  let n = (~c) >>> 0;
  const B62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  let check = '';
  for (let i = 0; i < 6; i++) {
    check = B62[n % 62] + check;
    n = Math.floor(n / 62);
  }
  return key + check;
}

describe('finding 12: one answer for every refused API key (the JS Gate)', () => {
  it('unknown, wrong secret, expired, revoked and malformed keys are indistinguishable', async () => {
    const now = Date.now();
    const make = (expiresAt) => eg.createApiKey({ account: 'acct_1', roles: [], expiresAt }, { now: now - 100_000 });
    const good = make(Math.floor(now / 1000) + 86_400);
    const expired = make(Math.floor(now / 1000) - 1);
    const revoked = make(Math.floor(now / 1000) + 86_400);
    const unknown = make(Math.floor(now / 1000) + 86_400);
    const records = new Map([
      [good.record.id, good.record],
      [expired.record.id, expired.record],
      [revoked.record.id, { ...revoked.record, revoked: true }],
    ]);
    // A known id with another key's secret (and a valid checksum, so it is looked up).
    const wrong = withChecksum(`egk_${good.record.id}_${unknown.key.slice(17, 49)}`);
    assert.notEqual(wrong, good.key);
    const asked = [];
    const store = { apiKey: (id) => (asked.push(id), records.get(id) ?? null) };
    const config = { ...baseConfig, apiKeys: { enabled: true }, routes: baseConfig.routes.map((r) => (r.name === 'api' ? { ...r, providers: ['jwt', 'apiKey'] } : r)) };
    const gate = eg.Gate.create(config, { env: { JWT_SECRET: SECRET }, store, now: () => now });
    const ask = (key) => gate.decide({ method: 'GET', path: '/api/x', headers: { authorization: `Bearer ${key}` } });
    assert.equal((await ask(good.key)).allow, true);
    const unknownGate = eg.Gate.create(config, { env: { JWT_SECRET: SECRET }, store: { apiKey: () => null }, now: () => now });
    const first = await unknownGate.decide({ method: 'GET', path: '/api/x', headers: { authorization: `Bearer ${unknown.key}` } });
    assert.equal(first.allow, false);
    assert.equal(first.code, 'AUTH-003');
    assert.equal(first.status, 401);
    const malformed = `${good.key.slice(0, -1)}${good.key.endsWith('A') ? 'B' : 'A'}`;
    for (const [name, key] of [['wrong secret', wrong], ['expired', expired.key], ['revoked', revoked.key], ['malformed', malformed]]) {
      const d = await ask(key);
      const pick = (x) => ({ allow: x.allow, status: x.status, code: x.code, detail: x.detail, body: x.body, wwwAuthenticate: x.wwwAuthenticate });
      assert.deepEqual(pick(d), pick(first), `${name} differs from an unknown key`);
      if (name === 'wrong secret') assert.equal(asked.at(-1), good.record.id, 'the forged key is well-formed and looked up');
    }
  });
});
