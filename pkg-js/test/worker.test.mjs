// The JS Worker example (examples/js-worker/index.mjs and its wrangler.toml) in workerd (Miniflare 4), in
// front of a real origin (node:http on 127.0.0.1, random port, echoing what it received).
//
// The Worker is bundled from the file wrangler.toml's `main` names, with the packed tarball
// installed in the scratch project as its `edgegate` (workerd export condition, wasm kept as
// a CompiledWasm module), and runs with wrangler.toml's compatibility_date and [vars] (only
// ORIGIN_URL is pointed at the test origin) plus a JWT_SECRET binding, as `wrangler secret
// put` would give it. Tokens come from jose (HS256).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

import * as jose from 'jose';
import { Miniflare } from 'miniflare';

import { packageDir, repoRoot, scratchDir } from './helpers/scratch.mjs';
import { bundleForWorkerd } from './helpers/workerd.mjs';

const SECRET = 'worker-test-secret-at-least-32-bytes!';
const ISSUER = 'https://issuer.example';
const AUDIENCE = 'api';
const FINGERPRINT = 'ab'.repeat(32);

/**
 * A strict parser for the TOML subset wrangler.toml uses (comments, `[table]`, `key = "basic"`,
 * `key = '''multi-line literal'''`): anything else is an error, so the file stays valid TOML.
 */
function parseTomlSubset(text) {
  const root = {};
  let table = root;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '' || line.startsWith('#')) continue;
    let m = /^\[([A-Za-z0-9_-]+)\]$/.exec(line);
    if (m) {
      assert.ok(!(m[1] in root), `duplicate table [${m[1]}]`);
      table = root[m[1]] = {};
      continue;
    }
    m = /^([A-Za-z0-9_-]+)\s*=\s*(.*)$/.exec(line);
    assert.ok(m, `wrangler.toml line ${i + 1}: not in the TOML subset this test reads: ${line}`);
    const [, key, rest] = m;
    assert.ok(!(key in table), `duplicate key ${key}`);
    if (rest === "'''") {
      const body = [];
      for (i++; i < lines.length && lines[i] !== "'''"; i++) body.push(lines[i]);
      assert.ok(i < lines.length, `unterminated ''' string for ${key}`);
      table[key] = body.join('\n') + '\n';
      continue;
    }
    m = /^"([^"\\]*)"\s*(#.*)?$/.exec(rest);
    assert.ok(m, `wrangler.toml line ${i + 1}: expected a plain "string": ${line}`);
    table[key] = m[1];
  }
  return root;
}

/** Bundles the Worker; `edgegate` resolves to the tarball installed in the scratch project. */
async function bundle(main, out) {
  assert.ok(existsSync(path.join(packageDir, 'package.json')), 'edgegate is not installed in pkg-js/test/.scratch: run `npm test` at the repo root');
  mkdirSync(out, { recursive: true });
  await bundleForWorkerd({ stdin: { contents: readFileSync(path.join(exampleDir, main), 'utf8'), resolveDir: scratchDir, sourcefile: main, loader: 'js' } }, out);
}

const exampleDir = path.join(repoRoot, 'examples', 'js-worker');
const toml = parseTomlSubset(readFileSync(path.join(exampleDir, 'wrangler.toml'), 'utf8'));
let dir;
let out;
let origin;
let originUrl;
const seen = []; // what the origin received, in order

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'eg-worker-'));
  out = path.join(dir, 'dist');
  await bundle(toml.main, out);
  origin = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const identity = {};
      for (const [k, v] of Object.entries(req.headers)) if (k.startsWith('x-user-') || k.startsWith('x-auth-')) identity[k] = v;
      const got = {
        method: req.method,
        url: req.url,
        identity,
        authorization: req.headers.authorization ?? null,
        custom: req.headers['x-custom'] ?? null,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      seen.push(got);
      res.writeHead(200, { 'content-type': 'application/json', 'x-from-origin': '1' });
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

/** Runs the bundled Worker with wrangler.toml's settings and `bindings` over its [vars];
 * the Worker's console output is appended to `logs` (before disposing, waits up to 10 s for
 * `until(logs)`: log lines come through workerd's stdout, after the response). */
async function withWorker(bindings, fn, logs = [], until = () => true) {
  const mf = new Miniflare({
    handleStructuredLogs: ({ level, message }) => {
      logs.push(`${level}: ${message}`);
    },
    modules: true,
    scriptPath: path.join(out, 'worker.js'),
    modulesRoot: out,
    modulesRules: [
      { type: 'ESModule', include: ['**/*.js', '**/*.mjs'] },
      { type: 'CompiledWasm', include: ['**/*.wasm'] },
    ],
    compatibilityDate: toml.compatibility_date,
    cf: false,
    bindings: { ...toml.vars, ORIGIN_URL: originUrl, ...bindings },
  });
  try {
    await fn((p, init) => mf.dispatchFetch(`https://edgegate.test${p}`, { redirect: 'manual', ...init }));
    for (const end = Date.now() + 10_000; !until(logs) && Date.now() < end; ) await new Promise((r) => setTimeout(r, 20));
  } finally {
    await mf.dispose();
  }
}

async function tokens() {
  const key = new TextEncoder().encode(SECRET);
  const now = Math.floor(Date.now() / 1000);
  const make = (sub, roles, exp = now + 600) =>
    new jose.SignJWT({ sub, roles })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt(now - 5)
      .setExpirationTime(exp)
      .sign(key);
  return { user: await make('alice', ['user']), admin: await make('root', ['admin']), expired: await make('late', ['user'], now - 3600) };
}

async function problem(res, status, code) {
  const text = await res.text();
  assert.equal(res.status, status, `status (body ${text.slice(0, 300)})`);
  assert.equal(res.headers.get('content-type'), 'application/problem+json');
  const body = JSON.parse(text);
  assert.equal(body.code, code);
  assert.equal(body.status, status);
  assert.equal(body.type, `urn:edgegate:error:${code}`);
  return { body, text };
}

test('wrangler.toml: the Worker, its vars, and examples/gate.json as EDGEGATE_CONFIG', () => {
  assert.equal(toml.name, 'edgegate');
  assert.equal(toml.main, 'index.mjs');
  assert.match(toml.compatibility_date, /^\d{4}-\d{2}-\d{2}$/);
  assert.deepEqual(Object.keys(toml.vars).sort(), ['AUTH_ENABLED', 'EDGEGATE_CONFIG', 'ORIGIN_URL']);
  assert.equal(toml.vars.AUTH_ENABLED, 'true');
  assert.ok(!('JWT_SECRET' in toml.vars), 'secrets are `wrangler secret put`, not vars');
  const { $schema, ...example } = JSON.parse(readFileSync(path.join(repoRoot, 'examples', 'gate.json'), 'utf8'));
  assert.ok($schema);
  assert.deepEqual(JSON.parse(toml.vars.EDGEGATE_CONFIG), example);
  assert.ok(readdirSync(out).some((f) => f.endsWith('.wasm')), 'the wasm core is a separate module of the bundle');
});

test('the Worker in front of an origin (examples/gate.json)', { timeout: 120_000 }, async (t) => {
  const tk = await tokens();
  const logs = [];
  await withWorker({ JWT_SECRET: SECRET }, async (get) => {
    const hits = () => seen.length;

    await t.test('/health passes anonymous; forged identity headers never reach the origin', async () => {
      const res = await get('/health', { headers: { 'x-user-id': 'forged', 'x-custom': 'kept' } });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('x-from-origin'), '1', "the origin's response is returned");
      const got = await res.json();
      assert.equal(got.url, '/health');
      assert.deepEqual(got.identity, {});
      assert.equal(got.custom, 'kept', 'other incoming headers are forwarded');
    });

    await t.test('/api/x without a token: 401 AUTH-005, WWW-Authenticate: Bearer without error', async () => {
      const before = hits();
      const res = await get('/api/x');
      await problem(res, 401, 'AUTH-005');
      const www = res.headers.get('www-authenticate');
      assert.match(www, /^Bearer\b/);
      assert.ok(!www.includes('error'), www);
      assert.equal(hits(), before, 'a denied request does not reach the origin');
    });

    await t.test('/api/x with a user token: 200, the origin sees X-User-Id, not the forged X-User-Roles', async () => {
      const res = await get('/api/x?q=1&r=a%20b', { headers: { authorization: `Bearer ${tk.user}`, 'x-user-roles': 'admin', 'x-user-id': 'mallory' } });
      assert.equal(res.status, 200);
      const got = await res.json();
      assert.equal(got.method, 'GET');
      assert.equal(got.url, '/api/x?q=1&r=a%20b', 'normalized path and the query');
      assert.equal(got.identity['x-user-id'], 'alice');
      assert.equal(got.identity['x-user-roles'], 'user');
      assert.equal(got.identity['x-auth-provider'], 'jwt');
      assert.ok(!String(got.identity['x-user-roles']).includes('admin'));
    });

    await t.test('POST: method and body are forwarded', async () => {
      const res = await get('/api/orders', { method: 'POST', headers: { authorization: `Bearer ${tk.user}`, 'content-type': 'text/plain' }, body: 'hello origin' });
      assert.equal(res.status, 200);
      const got = await res.json();
      assert.equal(got.method, 'POST');
      assert.equal(got.body, 'hello origin');
      assert.equal(got.identity['x-user-id'], 'alice');
    });

    await t.test('dot segments are normalized before forwarding', async () => {
      const res = await get('/api/a/./b/../x', { headers: { authorization: `Bearer ${tk.user}` } });
      assert.equal(res.status, 200);
      assert.equal((await res.json()).url, '/api/a/x');
    });

    await t.test('/admin/x with a user token: 403 AUTH-012; with an admin token: 200', async () => {
      const before = hits();
      const res = await get('/admin/x', { headers: { authorization: `Bearer ${tk.user}` } });
      const { text } = await problem(res, 403, 'AUTH-012');
      assert.match(res.headers.get('www-authenticate'), /insufficient_scope/);
      assert.ok(!text.includes(tk.user.split('.')[2]), 'the body does not echo the token');
      assert.equal(hits(), before);
      const ok = await get('/admin/x', { headers: { authorization: `Bearer ${tk.admin}` } });
      assert.equal(ok.status, 200);
      assert.equal((await ok.json()).identity['x-user-roles'], 'admin');
    });

    await t.test('expired token: 401 AUTH-002, error="invalid_token"', async () => {
      const res = await get('/api/x', { headers: { authorization: `Bearer ${tk.expired}` } });
      await problem(res, 401, 'AUTH-002');
      assert.match(res.headers.get('www-authenticate'), /error="invalid_token"/);
    });

    await t.test('/api/%2e%2e/admin/x and /api/..%2Fadmin/x: denied, the origin not reached', async () => {
      const before = hits();
      for (const p of ['/api/%2e%2e/admin/x', '/api/..%2Fadmin/x', '/api/%2E%2E/admin/x']) {
        const res = await get(p, { headers: { authorization: `Bearer ${tk.user}` } });
        const text = await res.text();
        assert.equal(res.status, 403, `${p}: ${res.status} ${text.slice(0, 200)}`);
        assert.ok(['AUTH-012', 'AUTH-013'].includes(JSON.parse(text).code), `${p}: ${text}`);
      }
      assert.equal(hits(), before);
    });

    await t.test('an unlisted route: 403 AUTH-013', async () => {
      await problem(await get('/other', { headers: { authorization: `Bearer ${tk.user}` } }), 403, 'AUTH-013');
      await problem(await get('/health', { method: 'DELETE' }), 403, 'AUTH-013');
    });

    await t.test('a good token still passes after the denials', async () => {
      const res = await get('/api/x', { headers: { authorization: `Bearer ${tk.user}` } });
      assert.equal(res.status, 200);
      assert.equal((await res.json()).identity['x-user-id'], 'alice');
    });
  }, logs);
  for (const token of Object.values(tk)) assert.ok(!logs.some((l) => l.includes(token.split('.')[2])), 'no token in the logs');
  assert.ok(!logs.some((l) => l.includes(SECRET)));
});

test('a broken EDGEGATE_CONFIG: 500 AUTH-015 for every request (fail closed)', { timeout: 120_000 }, async () => {
  const before = seen.length;
  const tk = await tokens();
  const logs = [];
  const cases = [{ JWT_SECRET: SECRET, EDGEGATE_CONFIG: '{"providers": [' }, {} /* JWT_SECRET not bound */, { JWT_SECRET: 'too short' }, { JWT_SECRET: SECRET, AUTH_ENABLED: 'maybe' }];
  for (const [i, bindings] of cases.entries()) {
    await withWorker(bindings, async (get) => {
      for (const [p, init] of [['/health'], ['/api/x', { headers: { authorization: `Bearer ${tk.user}` } }], ['/nope']]) {
        const { body } = await problem(await get(p, init), 500, 'AUTH-015');
        assert.equal(body.title, 'configuration error');
      }
    }, logs, (l) => l.length > i);
  }
  await withWorker({ JWT_SECRET: SECRET, ORIGIN_URL: 'not a url' }, async (get) => {
    await problem(await get('/health'), 500, 'AUTH-015');
  }, logs, (l) => l.length > cases.length);
  assert.equal(seen.length, before, 'nothing reached the origin');
  // The path of the bad field is logged once per isolate (not per request), never a value.
  const errors = logs.filter((l) => l.startsWith('error: '));
  assert.equal(errors.length, 5, errors.join('\n'));
  assert.equal(errors.filter((l) => l.includes('at providers[0].secret')).length, 2, errors.join('\n'));
  assert.ok(errors.some((l) => l.includes('at env.AUTH_ENABLED')), errors.join('\n'));
  assert.ok(errors.some((l) => l.includes('ORIGIN_URL')), errors.join('\n'));
  for (const l of logs) for (const s of [SECRET, 'too short', 'maybe', 'not a url']) assert.ok(!l.includes(s), `logged a value: ${l}`);
});

test('mTLS: request.cf.tlsClientAuth becomes the gate\'s clientCert', { timeout: 120_000 }, async () => {
  const config = JSON.parse(toml.vars.EDGEGATE_CONFIG);
  config.routes.unshift({ name: 'partner', path: '/partner/**', public: true, mtls: { fingerprints: [FINGERPRINT] } });
  const cert = (verified, fp) => ({ tlsClientAuth: { certPresented: '1', certVerified: verified, certFingerprintSHA256: fp } });
  await withWorker({ JWT_SECRET: SECRET, EDGEGATE_CONFIG: JSON.stringify(config) }, async (get) => {
    const ok = await get('/partner/x', { cf: cert('SUCCESS', FINGERPRINT) });
    assert.equal(ok.status, 200);
    assert.equal((await ok.json()).url, '/partner/x');
    await problem(await get('/partner/x'), 403, 'AUTH-013');
    await problem(await get('/partner/x', { cf: cert('FAILED:self signed certificate', FINGERPRINT) }), 403, 'AUTH-013');
    await problem(await get('/partner/x', { cf: cert('SUCCESS', 'cd'.repeat(32)) }), 403, 'AUTH-013');
    await problem(await get('/partner/x', { cf: { tlsClientAuth: { certPresented: '0', certVerified: 'NONE', certFingerprintSHA256: '' } } }), 403, 'AUTH-013');
  });
});

test('AUTH_ENABLED=false: every request passes as anonymous, no identity headers, a loud warning once', { timeout: 120_000 }, async () => {
  const logs = [];
  await withWorker({ JWT_SECRET: SECRET, AUTH_ENABLED: 'false' }, async (get) => {
    for (let i = 0; i < 2; i++) {
      const res = await get('/admin/x', { headers: { 'x-user-roles': 'admin' } });
      assert.equal(res.status, 200);
      const got = await res.json();
      assert.equal(got.url, '/admin/x');
      assert.deepEqual(got.identity, {}, 'forged identity headers are stripped even when disabled');
    }
  }, logs, (l) => l.length > 0);
  const warnings = logs.filter((l) => l.includes('AUTHENTICATION IS DISABLED'));
  assert.equal(warnings.length, 1, logs.join('\n'));
  assert.match(warnings[0], /^warn: /);
});
