// The Redis store against a real redis-server that this test starts on 127.0.0.1 and a
// random port (scripts/setup.sh installs it) and stops at the end: two Gate instances
// sharing one limit exactly under concurrent requests, API key and revocation lookups, and
// Redis down -> onStoreError.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as jose from 'jose';
import { createClient } from 'redis';
import { importEdgegate } from './helpers/scratch.mjs';
import { freePort, startRedis } from './helpers/redis.mjs';

const eg = await importEdgegate();
const SECRET = 'redis-js-test-secret-of-32-bytes-plus!';
const T0 = 1_700_000_000_000;

function token(sub) {
  return new jose.SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer('https://issuer.example')
    .setAudience('api')
    .setSubject(sub)
    .setIssuedAt(Math.floor(T0 / 1000))
    .setExpirationTime(Math.floor(T0 / 1000) + 36_000)
    .sign(new TextEncoder().encode(SECRET));
}

const config = (policy) => ({
  providers: [{ type: 'jwt', issuer: 'https://issuer.example', audience: 'api', secret: SECRET }],
  apiKeys: { enabled: true },
  revocation: { enabled: true },
  rateLimits: [{ name: 'shared', algorithm: 'gcra', limit: 10, window: '1m', key: 'sub', store: 'redis', timeoutMs: 500, ...policy }],
  routes: [{ path: '/api/**', rateLimits: ['shared'] }],
});

let redis;
let url;
let admin;
let port;

before(async () => {
  redis = await startRedis('edgegate-redis');
  ({ url, admin, port } = redis);
});

after(async () => {
  await redis?.stop();
});

describe('createRedisStore', () => {
  it('two Gate instances share one limit exactly under concurrent requests', async () => {
    const s1 = eg.createRedisStore({ url, prefix: 'eg1:' });
    const s2 = eg.createRedisStore({ url, prefix: 'eg1:' });
    try {
      // onStoreError deny: a request that runs out of compare-and-set retries is refused,
      // so nothing is ever let through above the limit.
      const g1 = eg.Gate.create(config({ onStoreError: 'deny' }), { now: () => T0, store: s1 });
      const g2 = eg.Gate.create(config({ onStoreError: 'deny' }), { now: () => T0, store: s2 });
      const r = { method: 'GET', path: '/api/x', headers: { authorization: `Bearer ${await token('alice')}` } };
      let allowed = 0;
      let limited = 0;
      // Waves of concurrent requests from both gates until the quota is gone.
      for (let wave = 0; wave < 10; wave++) {
        const ds = await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 ? g1 : g2).decide(r)));
        for (const d of ds) {
          if (d.allow) allowed++;
          else if (d.code === 'AUTH-016') limited++;
          else assert.equal(d.code, 'AUTH-015', JSON.stringify(d));
        }
      }
      assert.equal(allowed, 10, `allowed ${allowed}`);
      assert.ok(limited > 0);
      const keys = await admin.keys('eg1:rl:shared:*');
      assert.equal(keys.length, 1);
      const ttl = await admin.pTTL(keys[0]);
      assert.ok(ttl > 0 && ttl <= 60_000, `ttl ${ttl}`);
      // A denied request carries the headers and Retry-After.
      const d = await g1.decide(r);
      assert.equal(d.status, 429);
      assert.ok(d.retryAfter >= 1);
      assert.equal(d.responseHeaders['Retry-After'], String(d.retryAfter));
      assert.match(d.responseHeaders['RateLimit-Policy'], /^"shared";q=10;w=60$/);
    } finally {
      await s1.close();
      await s2.close();
    }
  });

  it('the compare-and-set script sets only on a match, with PX', async () => {
    const s = eg.createRedisStore({ client: admin, prefix: 'eg2:' });
    assert.deepEqual(await s.rateLimit.compareAndSet('k', null, 'a', 10_000), { ok: true });
    assert.deepEqual(await s.rateLimit.compareAndSet('k', null, 'b', 10_000), { ok: false, current: 'a' });
    assert.deepEqual(await s.rateLimit.compareAndSet('k', 'x', 'b', 10_000), { ok: false, current: 'a' });
    assert.deepEqual(await s.rateLimit.compareAndSet('k', 'a', 'b', 10_000), { ok: true });
    assert.equal(await s.rateLimit.load('k'), 'b');
    assert.equal(await s.rateLimit.load('missing'), null);
    assert.deepEqual(await s.rateLimit.compareAndSet('gone', 'a', 'b', 10_000), { ok: false, current: null });
    const ttl = await admin.pTTL('eg2:k');
    assert.ok(ttl > 0 && ttl <= 10_000, String(ttl));
  });

  it('answers API key and revocation lookups', async () => {
    const { key, record } = eg.createApiKey({ account: 'acct', roles: [], permissions: [], expiresAt: Math.floor(T0 / 1000) + 3600 }, { now: T0 });
    await admin.set(`eg3:apikey:${record.id}`, JSON.stringify(record));
    const store = eg.createRedisStore({ client: admin, prefix: 'eg3:' });
    const gate = eg.Gate.create(
      { apiKeys: { enabled: true }, revocation: { enabled: true }, routes: [{ path: '/m/**', providers: ['apiKey'] }] },
      { now: () => T0, store },
    );
    const r = { method: 'GET', path: '/m/x', headers: { authorization: `Bearer ${key}` } };
    assert.equal((await gate.decide(r)).allow, true);
    await admin.set(`eg3:revoked:${record.id}`, '1');
    assert.equal((await gate.decide(r)).code, 'AUTH-010');
  });

  it('Redis down applies onStoreError', async () => {
    const port = await freePort(); // nothing listens there
    const down = eg.createRedisStore({ url: `redis://127.0.0.1:${port}` });
    const r = { method: 'GET', path: '/api/x', headers: { authorization: `Bearer ${await token('bob')}` } };
    try {
      const deny = eg.Gate.create(config({ onStoreError: 'deny' }), { now: () => T0, store: down });
      const d = await deny.decide(r);
      assert.equal(d.status, 500);
      assert.equal(d.code, 'AUTH-015');
      assert.match(d.detail, /rate limit store unavailable/);
      const allow = eg.Gate.create(config({ onStoreError: 'allow' }), { now: () => T0, store: down });
      for (let i = 0; i < 12; i++) assert.equal((await allow.decide(r)).allow, true);
      const local = eg.Gate.create(config({ onStoreError: 'local', limit: 2 }), { now: () => T0, store: down });
      const st = [];
      for (let i = 0; i < 4; i++) st.push((await local.decide(r)).status);
      assert.deepEqual(st, [200, 200, 429, 429]);
    } finally {
      await down.close();
    }
  });
});
