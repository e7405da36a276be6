// The Rust Worker's rate limits and request facts in workerd (Miniflare 4), issue 11:
// `durable-object` (exact: the RateLimiter object, exactly `limit` allowed under 30
// concurrent requests), `kv` (KvSync in the core, coalesced `rl:` entries in KV), `memory`;
// 429 with RateLimit / RateLimit-Policy / Retry-After; RateLimit headers on allowed
// responses; `ip` policies keyed on CF-Connecting-IP; mTLS from `request.cf.tlsClientAuth`;
// the core's forward path; a `redis` store refused at start-up.
//
// Builds the Worker with scripts/build-worker.sh (skipped when up to date);
// EDGEGATE_SKIP_WORKER=1 skips this file.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { Miniflare } from 'miniflare';
import { buildRustWorker, clearOfWindowEdge, rustWorkerOptions } from '../../scripts/rust-worker-miniflare.mjs';
import { close, listen } from './helpers/http.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const BUILD = path.join(ROOT, 'build');
const skip = process.env.EDGEGATE_SKIP_WORKER === '1';
const FP = 'ab'.repeat(32);

let origin;
let originUrl;
const seen = [];

before(async () => {
  if (skip) return;
  buildRustWorker();
  origin = http.createServer((req, res) => {
    seen.push({ url: req.url, headers: req.headers });
    res.writeHead(200, { 'content-type': 'application/json', 'x-from-origin': '1' });
    res.end(JSON.stringify({ url: req.url }));
  });
  originUrl = await listen(origin);
});

after(() => close(origin));

const policy = (name, store, limit, extra = {}) => ({ name, algorithm: 'fixed-window', limit, window: '1m', key: 'ip', store, onStoreError: 'deny', ...extra });

function config(policies = null, routes = null) {
  return {
    providers: [{ type: 'jwt', name: 'jwt', issuer: 'https://issuer.example', audience: 'api', secret: 'rate-limit-worker-secret-0123456789ab', algorithms: ['HS256'] }],
    rateLimits: policies ?? [
      policy('do-ip', 'durable-object', 5),
      policy('do-burst', 'durable-object', 5),
      policy('kv-ip', 'kv', 3, { algorithm: 'sliding-window' }),
      policy('mem-ip', 'memory', 2),
    ],
    routes: routes ?? [
      { name: 'do', path: '/do/**', public: true, rateLimits: ['do-ip'] },
      { name: 'burst', path: '/burst/**', public: true, rateLimits: ['do-burst'] },
      { name: 'kv', path: '/kv/**', public: true, rateLimits: ['kv-ip'] },
      { name: 'mem', path: '/mem/**', public: true, rateLimits: ['mem-ip'] },
      { name: 'mtls', path: '/mtls/**', public: true, mtls: { fingerprints: [FP] } },
      { name: 'public', path: '/public/**', public: true },
    ],
  };
}

async function withWorker(cfg, fn) {
  const logs = [];
  const mf = new Miniflare(rustWorkerOptions({ bindings: { ORIGIN_URL: originUrl, EDGEGATE_CONFIG: JSON.stringify(cfg) }, logs }));
  try {
    const get = (p, ip, init = {}) =>
      mf.dispatchFetch(`https://edgegate.test${p}`, { redirect: 'manual', ...init, headers: { ...(ip ? { 'cf-connecting-ip': ip } : {}), ...(init.headers ?? {}) } });
    await fn(get, mf, logs);
  } finally {
    await mf.dispose();
  }
}

async function limited(res, policyName) {
  const text = await res.text();
  assert.equal(res.status, 429, `status (body ${text.slice(0, 300)})`);
  assert.equal(JSON.parse(text).code, 'AUTH-016');
  const retry = res.headers.get('retry-after');
  assert.match(retry ?? '', /^[1-9][0-9]*$/, 'Retry-After: positive seconds');
  assert.match(res.headers.get('ratelimit') ?? '', new RegExp(`^"${policyName}";r=0;t=[0-9]+$`));
  assert.match(res.headers.get('ratelimit-policy') ?? '', new RegExp(`^"${policyName}";q=[0-9]+;w=60$`));
}

async function allowed(res, policyName, remaining) {
  const text = await res.text();
  assert.equal(res.status, 200, `status (body ${text.slice(0, 300)})`);
  assert.equal(res.headers.get('x-from-origin'), '1', 'from the origin');
  assert.match(res.headers.get('ratelimit') ?? '', new RegExp(`^"${policyName}";r=${remaining};t=[0-9]+$`), 'RateLimit on the allowed response');
  assert.ok(res.headers.get('ratelimit-policy')?.startsWith(`"${policyName}";`));
  assert.equal(res.headers.get('retry-after'), null);
}

test('Rust Worker rate limits and request facts in workerd', { skip, timeout: 1_800_000 }, async (t) => {
  await withWorker(config(), async (get, mf, logs) => {
    await t.test('durable-object: limit, then 429 with RateLimit, RateLimit-Policy, Retry-After', async () => {
      await clearOfWindowEdge();
      for (let i = 0; i < 5; i++) await allowed(await get('/do/x', '198.51.100.1'), 'do-ip', 4 - i);
      await limited(await get('/do/x', '198.51.100.1'), 'do-ip');
      // Keyed on CF-Connecting-IP: another address has its own quota.
      await allowed(await get('/do/x', '198.51.100.2'), 'do-ip', 4);
    });

    await t.test('durable-object: exactly `limit` allowed under 30 concurrent requests', async () => {
      await clearOfWindowEdge();
      const res = await Promise.all(Array.from({ length: 30 }, () => get('/burst/x', '198.51.100.3')));
      const statuses = await Promise.all(res.map(async (r) => (await r.text(), r.status)));
      const ok = statuses.filter((s) => s === 200).length;
      assert.equal(ok, 5, `statuses ${statuses.join(',')}`);
      // The others get the limit's verdict (429), not onStoreError (500) from exhausted
      // compare-and-set retries.
      assert.equal(statuses.filter((s) => s === 429).length, 25, `statuses ${statuses.join(',')}`);
      // Afterwards: 429, never another pass.
      await limited(await get('/burst/x', '198.51.100.3'), 'do-burst');
    });

    await t.test('kv: KvSync counts, 429 with headers, a coalesced rl: entry in KV', async () => {
      await clearOfWindowEdge();
      for (let i = 0; i < 3; i++) await allowed(await get('/kv/x', '198.51.100.4'), 'kv-ip', 2 - i);
      await limited(await get('/kv/x', '198.51.100.4'), 'kv-ip');
      await allowed(await get('/kv/x', '198.51.100.5'), 'kv-ip', 2);
      const kv = await mf.getKVNamespace('EDGEGATE_RATELIMIT_KV');
      let keys = [];
      for (const end = Date.now() + 5000; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) {
        keys = (await kv.list({ prefix: 'rl:kv-ip:' })).keys;
        if (keys.length >= 2) break;
      }
      assert.equal(keys.length, 2, 'one entry per (key value, isolate)');
      for (const k of keys) {
        assert.match(k.name, /^rl:kv-ip:[0-9a-f]{64}:[0-9a-f]{16}$/);
        assert.ok(JSON.parse(k.metadata.s).window, 'the state in the metadata');
        assert.ok(Number.isSafeInteger(k.metadata.t));
      }
      // The 198.51.100.4 entry carries the 3 admitted requests (coalesced: the first write
      // had 1, the delayed flush the rest).
      let counts = [];
      for (const end = Date.now() + 5000; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) {
        counts = (await kv.list({ prefix: 'rl:kv-ip:' })).keys.map((k) => JSON.parse(k.metadata.s).window.count).sort();
        if (counts.join() === '1,3') break;
      }
      assert.deepEqual(counts, [1, 3]);
    });

    await t.test('memory store', async () => {
      await clearOfWindowEdge();
      await allowed(await get('/mem/x', '198.51.100.6'), 'mem-ip', 1);
      await allowed(await get('/mem/x', '198.51.100.6'), 'mem-ip', 0);
      await limited(await get('/mem/x', '198.51.100.6'), 'mem-ip');
    });

    await t.test('mTLS from request.cf.tlsClientAuth', async () => {
      const tls = (over) => ({ cf: { tlsClientAuth: { certPresented: '1', certVerified: 'SUCCESS', certRevoked: '0', certFingerprintSHA256: FP, ...over } } });
      const ok = await get('/mtls/x', null, tls({}));
      assert.equal(ok.status, 200, await ok.text());
      for (const [label, init] of [
        ['no cf', {}],
        ['not presented', tls({ certPresented: '0' })],
        ['not verified', tls({ certVerified: 'FAILED:self signed certificate' })],
        ['revoked', tls({ certRevoked: '1' })],
        ['other fingerprint', tls({ certFingerprintSHA256: 'cd'.repeat(32) })],
      ]) {
        const res = await get('/mtls/x', null, init);
        const text = await res.text();
        assert.equal(res.status, 403, `${label}: ${text}`);
        assert.equal(JSON.parse(text).code, 'AUTH-013', label);
      }
    });

    await t.test('forwarded on the path the core encoded', async () => {
      const before = seen.length;
      const res = await get('/public/a%20b/caf%C3%A9/./x/../y?q=1', null);
      assert.equal(res.status, 200, await res.text());
      assert.equal(seen.length, before + 1);
      assert.equal(seen.at(-1).url, '/public/a%20b/caf%C3%A9/y?q=1');
    });

    assert.ok(!logs.some((l) => l.includes('rate-limit KV write failed')), logs.join('\n'));
  });

  await t.test('a redis store is refused at start-up (500 AUTH-015)', async () => {
    await withWorker(config([policy('r', 'redis', 5)], [{ path: '/public/**', public: true, rateLimits: ['r'] }]), async (get, _mf, logs) => {
      const res = await get('/public/x', '198.51.100.9');
      const text = await res.text();
      assert.equal(res.status, 500, text);
      assert.equal(JSON.parse(text).code, 'AUTH-015');
      assert.ok(logs.some((l) => l.includes('rateLimits[0].store')), logs.join('\n'));
    });
  });
});
