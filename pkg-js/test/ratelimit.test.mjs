// Rate limits through the packed package: a memory policy gives exactly `limit` requests
// per key and window, then 429 AUTH-016 with Retry-After, and recovers after the window;
// responseHeaders carry RateLimit-Policy and RateLimit; shared stores over
// options.store.rateLimit (required at start-up, timeouts -> onStoreError).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as jose from 'jose';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { importEdgegate, scratchDir } from './helpers/scratch.mjs';

const eg = await importEdgegate();
const SECRET = 'ratelimit-js-test-secret-of-32-bytes!';
const T0 = 1_700_000_000_000;

function token(sub, extra = {}) {
  return new jose.SignJWT(extra)
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer('https://issuer.example')
    .setAudience('api')
    .setSubject(sub)
    .setIssuedAt(Math.floor(T0 / 1000))
    .setExpirationTime(Math.floor(T0 / 1000) + 36_000)
    .sign(new TextEncoder().encode(SECRET));
}

const config = (policy, extra = {}) => ({
  providers: [{ type: 'jwt', issuer: 'https://issuer.example', audience: 'api', secret: SECRET }],
  rateLimits: [{ name: 'per-user', algorithm: 'fixed-window', limit: 3, window: '1m', key: 'sub', ...policy }],
  routes: [
    { path: '/login', public: true, rateLimits: ['by-ip'] },
    { path: '/api/**', rateLimits: ['per-user'] },
  ],
  ...extra,
});
const withIp = (policy, extra) => {
  const c = config(policy, extra);
  c.rateLimits.push({ name: 'by-ip', limit: 2, window: 10, key: 'ip' });
  return c;
};

/** A Structured Fields list of sf-strings with integer parameters (what the fields use). */
function sfList(v) {
  const out = [];
  const re = /\s*"((?:[^"\\]|\\["\\])*)"((?:;[a-z*][a-z0-9_.*-]*=\d{1,15})*)\s*(,|$)/y;
  let m;
  let last = false;
  while (!last && (m = re.exec(v))) {
    const params = Object.fromEntries([...m[2].matchAll(/;([a-z*][a-z0-9_.*-]*)=(\d+)/g)].map((p) => [p[1], Number(p[2])]));
    out.push([m[1].replace(/\\(["\\])/g, '$1'), params]);
    last = m[3] === '';
  }
  assert.ok(last && re.lastIndex === v.length, `not a Structured Fields list: ${v}`);
  return out;
}

describe('rate limits (memory store)', () => {
  it('allows exactly limit per key and window, then 429 with Retry-After, then recovers', async () => {
    let now = T0;
    const gate = eg.Gate.create(withIp({}), { now: () => now });
    const alice = { method: 'GET', path: '/api/x', headers: { authorization: `Bearer ${await token('alice')}` } };
    for (let i = 0; i < 3; i++) {
      const d = await gate.decide(alice);
      assert.equal(d.allow, true, JSON.stringify(d));
      assert.deepEqual(sfList(d.responseHeaders['RateLimit-Policy']), [['per-user', { q: 3, w: 60 }]]);
      const [[name, p]] = sfList(d.responseHeaders.RateLimit);
      assert.equal(name, 'per-user');
      assert.equal(p.r, 2 - i);
    }
    const d = await gate.decide(alice);
    assert.equal(d.allow, false);
    assert.equal(d.status, 429);
    assert.equal(d.code, 'AUTH-016');
    assert.ok(Number.isInteger(d.retryAfter) && d.retryAfter >= 1 && d.retryAfter <= 60, String(d.retryAfter));
    assert.equal(d.responseHeaders['Retry-After'], String(d.retryAfter));
    assert.equal(sfList(d.responseHeaders.RateLimit)[0][1].r, 0);
    const body = JSON.parse(d.body);
    assert.equal(body.code, 'AUTH-016');
    assert.equal(body.retryAfter, d.retryAfter);
    // Another key is not affected.
    const bob = { method: 'GET', path: '/api/x', headers: { authorization: `Bearer ${await token('bob')}` } };
    assert.equal((await gate.decide(bob)).allow, true);
    // After the wait, alice passes again.
    now += d.retryAfter * 1000;
    assert.equal((await gate.decide(alice)).allow, true);
  });

  it('an ip policy guards a public route; no clientIp is denied, not pooled', async () => {
    const gate = eg.Gate.create(withIp({}), { now: () => T0 });
    const login = (ip) => ({ method: 'POST', path: '/login', clientIp: ip });
    const results = [];
    for (let i = 0; i < 4; i++) results.push((await gate.decide(login('203.0.113.9'))).status);
    assert.deepEqual(results, [200, 200, 429, 429]);
    assert.equal((await gate.decide(login('203.0.113.10'))).status, 200);
    const d = await gate.decide({ method: 'POST', path: '/login' });
    assert.equal(d.code, 'AUTH-013');
    assert.match(d.detail, /rate limit key missing/);
  });

  it('rateLimitHeaders: false keeps only Retry-After', async () => {
    const gate = eg.Gate.create(withIp({ limit: 1 }, { rateLimitHeaders: false }), { now: () => T0 });
    const r = { method: 'GET', path: '/api/x', headers: { authorization: `Bearer ${await token('a')}` } };
    assert.deepEqual((await gate.decide(r)).responseHeaders, {});
    const d = await gate.decide(r);
    assert.deepEqual(Object.keys(d.responseHeaders), ['Retry-After']);
  });

  it('unknown policy names and missing stores are refused at start-up with the field path', () => {
    const bad = withIp({});
    bad.routes[1].rateLimits = ['nope'];
    assert.throws(() => eg.Gate.create(bad), (e) => e.code === 'AUTH-015' && e.reason === 'routes[1].rateLimits[0]');
    assert.throws(
      () => eg.Gate.create(withIp({ store: 'redis' })),
      (e) => e.code === 'AUTH-015' && e.reason === 'rateLimits[0].store' && /redis/.test(e.message),
    );
    const kv = { kind: 'kv', load: () => null, compareAndSet: () => ({ ok: true }) };
    assert.throws(() => eg.Gate.create(withIp({ store: 'redis' }), { store: { rateLimit: kv } }), (e) => e.reason === 'rateLimits[0].store');
    assert.ok(eg.Gate.create(withIp({ store: 'kv' }), { store: { rateLimit: kv } }));
  });
});

describe('rate limits (shared store interface)', () => {
  /** An in-memory compare-and-set store, optionally slow. */
  function casStore({ delay = 0 } = {}) {
    const map = new Map();
    const wait = () => new Promise((r) => setTimeout(r, delay));
    return {
      map,
      kind: 'durable-object',
      async load(key) {
        if (delay) await wait();
        return map.get(key) ?? null;
      },
      async compareAndSet(key, expected, next) {
        if (delay) await wait();
        const cur = map.get(key) ?? null;
        if (cur !== expected) return { ok: false, current: cur };
        map.set(key, next);
        return { ok: true };
      },
    };
  }

  it('concurrent decisions share one limit exactly', async () => {
    const rl = casStore();
    const a = eg.Gate.create(withIp({ store: 'durable-object', onStoreError: 'deny', limit: 5 }), { now: () => T0, store: { rateLimit: rl } });
    const b = eg.Gate.create(withIp({ store: 'durable-object', onStoreError: 'deny', limit: 5 }), { now: () => T0, store: { rateLimit: rl } });
    const r = { method: 'GET', path: '/api/x', headers: { authorization: `Bearer ${await token('c')}` } };
    const ds = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b).decide(r)));
    const allowed = ds.filter((d) => d.allow).length;
    // Conflicts are retried at most 3 times per request; a request that runs out of retries
    // fails closed (onStoreError deny) and never overshoots.
    assert.ok(allowed <= 5, `allowed ${allowed}`);
    for (const d of ds) if (!d.allow) assert.ok(d.code === 'AUTH-016' || d.code === 'AUTH-015', d.code);
    // Sequentially the rest of the quota is used up exactly.
    let more = 0;
    for (let i = 0; i < 10; i++) if ((await a.decide(r)).allow) more++;
    assert.equal(allowed + more, 5);
    assert.equal(rl.map.size, 1);
    assert.match([...rl.map.keys()][0], /^rl:per-user:[0-9a-f]{64}$/);
  });

  it('a store slower than timeoutMs applies onStoreError', async () => {
    const slow = casStore({ delay: 200 });
    const r = { method: 'GET', path: '/api/x', headers: { authorization: `Bearer ${await token('d')}` } };
    const deny = eg.Gate.create(withIp({ store: 'durable-object', onStoreError: 'deny', timeoutMs: 20 }), { now: () => T0, store: { rateLimit: slow } });
    const d = await deny.decide(r);
    assert.equal(d.status, 500);
    assert.equal(d.code, 'AUTH-015');
    const allow = eg.Gate.create(withIp({ store: 'durable-object', onStoreError: 'allow', timeoutMs: 20 }), { now: () => T0, store: { rateLimit: slow } });
    for (let i = 0; i < 5; i++) assert.equal((await allow.decide(r)).allow, true);
    const local = eg.Gate.create(withIp({ store: 'durable-object', onStoreError: 'local', timeoutMs: 20 }), { now: () => T0, store: { rateLimit: slow } });
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await local.decide(r)).status);
    assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
  });

  it('a malformed stored state or answer is a store error', async () => {
    const broken = { kind: 'redis', load: () => '{"window":{"count":"lots"}}', compareAndSet: () => ({ ok: true }) };
    const gate = eg.Gate.create(withIp({ store: 'redis', onStoreError: 'deny' }), { now: () => T0, store: { rateLimit: broken } });
    const r = { method: 'GET', path: '/api/x', headers: { authorization: `Bearer ${await token('e')}` } };
    assert.equal((await gate.decide(r)).code, 'AUTH-015');
    const odd = { kind: 'redis', load: () => null, compareAndSet: () => 'OK' };
    const g2 = eg.Gate.create(withIp({ store: 'redis', onStoreError: 'deny' }), { now: () => T0, store: { rateLimit: odd } });
    assert.equal((await g2.decide(r)).code, 'AUTH-015');
  });
});

describe('CLI check', () => {
  it('prints the rate-limit fields (text and json)', () => {
    const file = join(scratchDir, 'ratelimit-cli-config.json');
    writeFileSync(file, JSON.stringify(withIp({})));
    const bin = join(scratchDir, 'node_modules', '.bin', 'edgegate');
    const run = (...extra) =>
      spawnSync(bin, ['check', '--config', file, '--method', 'POST', '--path', '/login', '--client-ip', '192.0.2.1', ...extra], { encoding: 'utf8' });
    const t = run();
    assert.equal(t.status, 0, t.stderr);
    assert.match(t.stdout, /^allow public route=\/login anonymous \[.*RateLimit-Policy: "by-ip";q=2;w=10/);
    assert.match(t.stdout, /RateLimit: "by-ip";r=1;t=\d+/);
    const j = run('--format', 'json');
    assert.equal(j.status, 0, j.stderr);
    const out = JSON.parse(j.stdout);
    assert.equal(out.responseHeaders['RateLimit-Policy'], '"by-ip";q=2;w=10');
  });
});
