// The JS Worker example (examples/js-worker/index.mjs) with the package's Workers KV store
// (`createKvStore`): API keys and revocations read from a real KV namespace in workerd
// (Miniflare), `clientIp` from CF-Connecting-IP and the gate's `responseHeaders` on every
// response. Also `createKvStore` itself (prefix, store errors) against a fake namespace.
import { after, before, describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

import { Miniflare } from 'miniflare';

import { importEdgegate, packageDir, repoRoot, scratchDir } from './helpers/scratch.mjs';
import { bundleForWorkerd } from './helpers/workerd.mjs';

const eg = await importEdgegate();
const exampleDir = path.join(repoRoot, 'examples', 'js-worker');
const CONFIG = {
  apiKeys: {},
  revocation: {},
  rateLimits: [{ name: 'by-ip', limit: 2, window: 60, key: 'ip' }],
  routes: [
    { name: 'open', path: '/open', public: true, rateLimits: ['by-ip'] },
    { name: 'deploy', path: '/deploy/**', providers: ['apiKey'], roles: ['deployer'] },
  ],
};

let dir;
let out;
let origin;
let originUrl;

before(async () => {
  assert.ok(existsSync(path.join(packageDir, 'package.json')), 'edgegate is not installed in pkg-js/test/.scratch');
  dir = mkdtempSync(path.join(os.tmpdir(), 'eg-worker-kv-'));
  out = path.join(dir, 'dist');
  mkdirSync(out, { recursive: true });
  await bundleForWorkerd({ stdin: { contents: readFileSync(path.join(exampleDir, 'index.mjs'), 'utf8'), resolveDir: scratchDir, sourcefile: 'index.mjs', loader: 'js' } }, out);
  origin = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ url: req.url, sub: req.headers['x-user-id'] ?? null }));
  });
  await new Promise((resolve) => origin.listen(0, '127.0.0.1', resolve));
  originUrl = `http://127.0.0.1:${origin.address().port}`;
});

after(async () => {
  if (origin) await new Promise((resolve) => origin.close(resolve));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the JS Worker: API keys and revocations from KV, clientIp, responseHeaders', { timeout: 120_000 }, async (t) => {
  const mf = new Miniflare({
    modules: true,
    scriptPath: path.join(out, 'worker.js'),
    modulesRoot: out,
    modulesRules: [
      { type: 'ESModule', include: ['**/*.js', '**/*.mjs'] },
      { type: 'CompiledWasm', include: ['**/*.wasm'] },
    ],
    compatibilityDate: '2025-09-01',
    cf: false,
    kvNamespaces: ['EDGEGATE_KV'],
    bindings: { ORIGIN_URL: originUrl, EDGEGATE_CONFIG: JSON.stringify(CONFIG) },
  });
  try {
    const kv = await mf.getKVNamespace('EDGEGATE_KV');
    const now = Math.floor(Date.now() / 1000);
    const good = eg.createApiKey({ account: 'acme', name: 'ci', roles: ['deployer'], expiresAt: now + 3600 });
    const revoked = eg.createApiKey({ account: 'acme', name: 'old', roles: ['deployer'], expiresAt: now + 3600 });
    const unknown = eg.createApiKey({ account: 'acme', name: 'nowhere', roles: ['deployer'], expiresAt: now + 3600 });
    await kv.put(`apikey:${good.record.id}`, JSON.stringify(good.record));
    await kv.put(`apikey:${revoked.record.id}`, JSON.stringify(revoked.record));
    await kv.put(`revoked:${revoked.record.id}`, '1');
    const get = (p, init) => mf.dispatchFetch(`https://edgegate.test${p}`, { redirect: 'manual', ...init });
    const bearer = (k) => ({ headers: { authorization: `Bearer ${k}` } });

    await t.test('a key stored in KV passes on a route naming apiKey', async () => {
      const res = await get('/deploy/x', bearer(good.key));
      assert.equal(res.status, 200, await res.clone().text());
      assert.equal((await res.json()).sub, good.record.id);
    });

    await t.test('a key revoked in KV: AUTH-010; unknown: AUTH-003', async () => {
      const r1 = await get('/deploy/x', bearer(revoked.key));
      assert.equal(r1.status, 401);
      assert.equal((await r1.json()).code, 'AUTH-010');
      const r2 = await get('/deploy/x', bearer(unknown.key));
      assert.equal(r2.status, 401);
      assert.equal((await r2.json()).code, 'AUTH-003');
    });

    await t.test('a malformed KV record is a store error (500), never accepted', async () => {
      const bad = eg.createApiKey({ account: 'acme', name: 'bad', roles: ['deployer'], expiresAt: now + 3600 });
      await kv.put(`apikey:${bad.record.id}`, '{not json');
      const res = await get('/deploy/x', bearer(bad.key));
      assert.equal(res.status, 500);
      assert.equal((await res.json()).code, 'AUTH-015');
    });

    await t.test('ip rate limit keyed on CF-Connecting-IP; RateLimit headers on allows and on the 429', async () => {
      const from = (ip) => ({ headers: { 'cf-connecting-ip': ip } });
      for (let i = 0; i < 2; i++) {
        const ok = await get('/open', from('203.0.113.7'));
        assert.equal(ok.status, 200);
        assert.ok(ok.headers.get('ratelimit'), 'RateLimit on the origin response');
        assert.ok(ok.headers.get('ratelimit-policy'));
        await ok.arrayBuffer();
      }
      const limited = await get('/open', from('203.0.113.7'));
      assert.equal(limited.status, 429);
      assert.equal((await limited.json()).code, 'AUTH-016');
      assert.ok(limited.headers.get('retry-after'));
      assert.ok(limited.headers.get('ratelimit'));
      const other = await get('/open', from('198.51.100.1'));
      assert.equal(other.status, 200, 'another client address has its own counter');
      await other.arrayBuffer();
    });
  } finally {
    await mf.dispose();
  }
});

describe('createKvStore', () => {
  const fake = (data, fail = false) => ({
    calls: [],
    async get(key, type) {
      this.calls.push([key, type]);
      if (fail) throw new Error('kv down');
      return data[key] ?? null;
    },
  });

  it('reads apikey:<id> and revoked:<id> under the prefix', async () => {
    const ns = fake({ 'eg:apikey:k1': JSON.stringify({ id: 'k1' }), 'eg:revoked:j1': '' });
    const s = eg.createKvStore(ns, { prefix: 'eg:' });
    assert.deepEqual(await s.apiKey('k1'), { id: 'k1' });
    assert.equal(await s.apiKey('k2'), null);
    assert.equal(await s.isRevoked('j1'), true, 'present (even empty) = revoked');
    assert.equal(await s.isRevoked('j2'), false);
    assert.deepEqual(ns.calls.map((c) => c[0]), ['eg:apikey:k1', 'eg:apikey:k2', 'eg:revoked:j1', 'eg:revoked:j2']);
  });

  it('a KV failure is a store error: the gate denies (fail closed)', async () => {
    const now = Math.floor(Date.now() / 1000);
    const { key, record } = eg.createApiKey({ account: 'a', roles: [], expiresAt: now + 60 });
    const config = { apiKeys: {}, revocation: {}, routes: [{ path: '/k', providers: ['apiKey'] }] };
    const down = eg.Gate.create(config, { env: {}, store: eg.createKvStore(fake({}, true)) });
    const d = await down.decide({ method: 'GET', path: '/k', headers: { authorization: `Bearer ${key}` } });
    assert.equal(d.allow, false);
    assert.equal(d.code, 'AUTH-015');
    const revDown = eg.createKvStore({ get: async (k) => (k.startsWith('apikey:') ? JSON.stringify(record) : Promise.reject(new Error('down'))) });
    const d2 = await eg.Gate.create(config, { env: {}, store: revDown }).decide({ method: 'GET', path: '/k', headers: { authorization: `Bearer ${key}` } });
    assert.equal(d2.allow, false, 'a revocation lookup that fails never means "not revoked"');
    assert.throws(() => eg.createKvStore(null), TypeError);
  });
});
