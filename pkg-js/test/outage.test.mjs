// Outages and faults (issue 13) through the packed package: the IdP down, slow and flapping
// (Gate and createRemoteJWKSet), Redis down, slow (SIGSTOP) and restarting mid-run under each
// onStoreError, clock jumps forward and back (`now`), and a host passing a bad time. For each:
// the documented behaviour (docs/security.md "Failure modes"), an answer in bounded time, and
// nothing let through that the config does not allow.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as jose from 'jose';
import { createClient } from 'redis';
import { importEdgegate } from './helpers/scratch.mjs';

const eg = await importEdgegate();
const MIN = 60_000;
const SECRET = 'outage-test-secret-of-32-bytes-or-more!';
const hs = (claims, exp = '10h') => new jose.SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuer('https://issuer.example').setAudience('api').setSubject(claims.sub ?? 'u1').setExpirationTime(exp).sign(new TextEncoder().encode(SECRET));
const req = (cred, path = '/api/x') => ({ method: 'GET', path, headers: cred ? { authorization: `Bearer ${cred}` } : {} });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** An IdP on 127.0.0.1 whose mode is `up`, `down` (503), `slow` (answers after `slowMs`),
 * `hang` (never answers) or `flap` (up and down on alternate requests). */
async function idp(jwks) {
  const s = { mode: 'up', hits: 0, ok: 0, slowMs: 3000, flip: false };
  s.server = http.createServer((_req, res) => {
    s.hits++;
    let mode = s.mode;
    if (mode === 'flap') mode = (s.flip = !s.flip) ? 'up' : 'down';
    if (mode === 'hang') return;
    const answer = () => {
      if (mode === 'down') return res.writeHead(503).end();
      s.ok++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(jwks));
    };
    if (mode === 'slow') setTimeout(answer, s.slowMs).unref();
    else answer();
  });
  await new Promise((r) => s.server.listen(0, '127.0.0.1', r));
  s.url = `http://127.0.0.1:${s.server.address().port}/jwks`;
  s.close = () => {
    s.server.closeAllConnections();
    return new Promise((r) => s.server.close(r));
  };
  return s;
}

async function es256() {
  const k = await jose.generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await jose.exportJWK(k.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  const sign = (exp = '5d') => new jose.SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer('https://idp.example').setAudience('api').setSubject('svc').setExpirationTime(exp).sign(k.privateKey);
  return { jwks: { keys: [jwk] }, sign };
}

const remoteGate = (url, now, opts = {}) =>
  eg.Gate.create({ providers: [{ type: 'oidc', name: 'idp', issuer: 'https://idp.example', audience: 'api', jwksUrl: url }], routes: [{ path: '/api/**' }] }, { env: {}, now, ...opts });

/** Runs `p` and asserts it settles within `ms` (never a hang). */
async function within(ms, p, what) {
  const started = Date.now();
  let timer;
  const r = await Promise.race([p, new Promise((_, rej) => (timer = setTimeout(() => rej(new Error(`${what}: no answer within ${ms} ms`)), ms)))]).finally(() => clearTimeout(timer));
  return { r, took: Date.now() - started };
}

describe('IdP outages through Gate (cache policy: 10 min fresh, maxStale 1 h)', () => {
  it('down: cached keys serve until freshness + maxStale, then AUTH-007; back up: keys again', async () => {
    const { jwks, sign } = await es256();
    const s = await idp(jwks);
    try {
      const t0 = Date.now();
      let t = t0;
      const gate = remoteGate(s.url, () => t);
      const tok = await sign();
      assert.equal((await gate.decide(req(tok))).allow, true);
      s.mode = 'down';
      for (const at of [5, 11, 40, 69]) {
        t = t0 + at * MIN;
        const d = await gate.decide(req(tok));
        assert.equal(d.allow, true, `at +${at} min: ${JSON.stringify(d)}`);
      }
      for (const at of [71, 200]) {
        t = t0 + at * MIN;
        const d = await gate.decide(req(tok));
        assert.deepEqual([d.allow, d.status, d.code], [false, 503, 'AUTH-007'], `at +${at} min`);
      }
      s.mode = 'up';
      t += 10_000;
      assert.equal((await gate.decide(req(tok))).allow, true);
    } finally {
      await s.close();
    }
  });

  it('slow (beyond timeoutDuration) and hanging: AUTH-007 within the timeout with nothing cached; stale keys serve', async () => {
    const { jwks, sign } = await es256();
    const s = await idp(jwks);
    try {
      const tok = await sign();
      for (const mode of ['slow', 'hang']) {
        s.mode = mode;
        const cold = remoteGate(s.url, () => Date.now(), { timeoutDuration: 300 });
        const { r: d, took } = await within(3000, cold.decide(req(tok)), mode);
        assert.deepEqual([d.allow, d.code], [false, 'AUTH-007'], mode);
        assert.ok(took >= 250 && took < 2500, `${mode}: took ${took} ms`);
      }
      // Keys fetched, then stale with the IdP slow: served within the timeout.
      s.mode = 'up';
      const t0 = Date.now();
      let t = t0;
      const warm = remoteGate(s.url, () => t, { timeoutDuration: 300 });
      assert.equal((await warm.decide(req(tok))).allow, true);
      s.mode = 'hang';
      t = t0 + 20 * MIN;
      const { r: d, took } = await within(3000, warm.decide(req(tok)), 'stale + hang');
      assert.equal(d.allow, true, JSON.stringify(d));
      assert.ok(took < 2500, `took ${took}`);
      t = t0 + 80 * MIN;
      const { r: d2 } = await within(3000, warm.decide(req(tok)), 'past maxStale + hang');
      assert.deepEqual([d2.allow, d2.code], [false, 'AUTH-007']);
    } finally {
      await s.close();
    }
  });

  it('flapping (up/down alternately): allowed only while a fetch succeeded within freshness + maxStale', async () => {
    const { jwks, sign } = await es256();
    const s = await idp(jwks);
    try {
      const tok = await sign('30d');
      const t0 = Date.now();
      let t = t0;
      const gate = remoteGate(s.url, () => t);
      s.mode = 'flap';
      let lastOk = -Infinity;
      let allowed = 0;
      let refused = 0;
      // 300 decisions over ~5 days of gate time, in steps of 1 to 40 minutes.
      for (let i = 0; i < 300; i++) {
        t += ((i * 7919) % 40) * MIN + 1000;
        const okBefore = s.ok;
        const { r: d } = await within(3000, gate.decide(req(tok)), `flap ${i}`);
        if (s.ok > okBefore) lastOk = t;
        if (d.allow) {
          allowed++;
          assert.ok(t - lastOk <= 70 * MIN, `allowed ${(t - lastOk) / MIN} min after the last good fetch`);
        } else {
          refused++;
          assert.deepEqual([d.status, d.code], [503, 'AUTH-007']);
        }
      }
      assert.ok(allowed > 200, `allowed ${allowed}`);
      // Down for good: past maxStale, every decision is AUTH-007.
      s.mode = 'down';
      t += 71 * MIN;
      for (let i = 0; i < 5; i++, t += 10 * MIN) assert.equal((await gate.decide(req(tok))).code, 'AUTH-007');
      assert.ok(refused >= 0);
    } finally {
      await s.close();
    }
  });
});

describe('IdP outages through createRemoteJWKSet (real time, short policy)', () => {
  it('down, slow and flapping: cached keys until maxStale, then AUTH-007; never a hang', async () => {
    const { jwks, sign } = await es256();
    const s = await idp(jwks);
    try {
      const tok = await sign();
      const opts = { cacheMaxAge: 300, maxStale: 700, retryAfterError: 50, timeoutDuration: 200 };
      const set = eg.createRemoteJWKSet(new URL(s.url), opts);
      const verify = () => within(3000, eg.jwtVerify(tok, set, { issuer: 'https://idp.example', audience: 'api' }).then(() => 'ok', (e) => e.code ?? String(e)), 'jwtVerify');
      assert.equal((await verify()).r, 'ok');
      for (const mode of ['down', 'slow', 'hang']) {
        s.mode = mode;
        await sleep(400); // stale, within maxStale
        const { r, took } = await verify();
        assert.equal(r, 'ok', `${mode} within maxStale`);
        assert.ok(took < 1000, `${mode}: ${took} ms`);
        s.mode = 'up';
        await set.reload();
        assert.equal((await verify()).r, 'ok');
      }
      s.mode = 'hang';
      await sleep(1100); // past 300 + 700 ms
      const { r, took } = await verify();
      assert.equal(r, 'AUTH-007');
      assert.ok(took < 1500, `${took} ms`);
      s.mode = 'flap';
      let seen = new Set();
      for (let i = 0; i < 20; i++) {
        await sleep(60);
        seen.add((await verify()).r);
      }
      for (const v of seen) assert.ok(v === 'ok' || v === 'AUTH-007', v);
    } finally {
      await s.close();
    }
  });
});

// --- Redis
async function freePort() {
  const srv = createServer();
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

describe('Redis down, slow and restarting mid-run', () => {
  let port;
  let dir;
  let server;
  let admin;
  const start = async () => {
    server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
    for (let i = 0; ; i++) {
      const c = createClient({ url: `redis://127.0.0.1:${port}`, socket: { reconnectStrategy: false } });
      c.on('error', () => {});
      try {
        await c.connect();
        return c;
      } catch (e) {
        if (i > 100) throw e;
        await sleep(50);
      }
    }
  };
  const stop = async () => {
    if (server && server.exitCode === null) {
      server.kill('SIGKILL');
      await new Promise((r) => server.once('exit', r));
    }
  };
  before(async () => {
    port = await freePort();
    dir = mkdtempSync(join(tmpdir(), 'edgegate-outage-'));
    admin = await start();
  });
  after(async () => {
    try {
      await admin?.quit();
    } catch {}
    if (server?.exitCode === null) server.kill('SIGCONT');
    await stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const rlConfig = (onStoreError, limit = 5) => ({
    providers: [{ type: 'jwt', issuer: 'https://issuer.example', audience: 'api', secret: SECRET }],
    apiKeys: { enabled: true },
    revocation: { enabled: true },
    rateLimits: [{ name: 'r', algorithm: 'fixed-window', limit, window: '1m', key: 'sub', store: 'redis', timeoutMs: 100, onStoreError }],
    routes: [{ path: '/api/**', rateLimits: ['r'] }, { path: '/plain/**' }],
  });

  it('slow (server stopped with SIGSTOP): rate limits follow onStoreError within timeoutMs; lookups fail closed', async () => {
    const T0 = Date.now();
    const store = eg.createRedisStore({ url: `redis://127.0.0.1:${port}`, prefix: 'slow:' });
    try {
      const tok = await hs({ sub: 'slow', jti: 'j-slow' });
      const gates = Object.fromEntries(['deny', 'allow', 'local'].map((m) => [m, eg.Gate.create(rlConfig(m, 2), { now: () => T0, store, storeTimeout: 300 })]));
      assert.equal((await gates.deny.decide(req(tok))).allow, true, 'warm');
      server.kill('SIGSTOP');
      try {
        const { r: d, took } = await within(3000, gates.deny.decide(req(tok)), 'deny');
        assert.deepEqual([d.allow, d.status, d.code], [false, 500, 'AUTH-015']);
        assert.ok(took < 2000, `took ${took}`);
        // allow: the revocation lookup still fails closed (no timeout there would hang).
        const { r: a } = await within(3000, gates.allow.decide(req(tok)), 'allow');
        assert.deepEqual([a.allow, a.code], [false, 'AUTH-015'], JSON.stringify(a));
        const { r: p } = await within(3000, gates.deny.decide(req(tok, '/plain/x')), 'plain');
        assert.deepEqual([p.allow, p.code], [false, 'AUTH-015'], 'revocation lookup timed out: fail closed');
      } finally {
        server.kill('SIGCONT');
      }
      await sleep(100);
      const { r: back } = await within(3000, gates.deny.decide(req(tok, '/plain/x')), 'after SIGCONT');
      assert.equal(back.allow, true, JSON.stringify(back));
    } finally {
      await store.close();
    }
  });

  it('down and restarting mid-run: each onStoreError holds, lookups fail closed, the store reconnects', async () => {
    const T0 = Date.now();
    const store = eg.createRedisStore({ url: `redis://127.0.0.1:${port}`, prefix: 'rs:' });
    try {
      const { key, record } = eg.createApiKey({ account: 'a', roles: [], permissions: [], expiresAt: Math.floor(T0 / 1000) + 3600 }, { now: T0 });
      await admin.set(`rs:apikey:${record.id}`, JSON.stringify(record));
      const toks = await Promise.all(['deny', 'allow', 'local'].map((m) => hs({ sub: `s-${m}` })));
      const g = (m, limit) => eg.Gate.create({ ...rlConfig(m, limit), revocation: { enabled: false } }, { now: () => T0, store, storeTimeout: 300 });
      const gates = { deny: g('deny', 3), allow: g('allow', 3), local: g('local', 3) };
      const apiGate = eg.Gate.create({ apiKeys: { enabled: true }, routes: [{ path: '/k/**', providers: ['apiKey'] }] }, { now: () => T0, store, storeTimeout: 300 });
      // Up: one allowed each; the API key works.
      for (const [i, m] of ['deny', 'allow', 'local'].entries()) assert.equal((await gates[m].decide(req(toks[i]))).allow, true);
      assert.equal((await apiGate.decide(req(key, '/k/x'))).allow, true);

      await admin.quit().catch(() => {});
      await stop();
      const down = {};
      for (const [i, m] of ['deny', 'allow', 'local'].entries()) {
        down[m] = [];
        for (let j = 0; j < 5; j++) down[m].push((await within(3000, gates[m].decide(req(toks[i])), m)).r);
      }
      assert.ok(down.deny.every((d) => !d.allow && d.code === 'AUTH-015' && d.status === 500), 'deny: 500 AUTH-015');
      assert.ok(down.allow.every((d) => d.allow), 'allow: allowed (the documented choice)');
      // local: the in-process limiter, limit 3 per window from its own count.
      assert.deepEqual(down.local.map((d) => d.status), [200, 200, 200, 429, 429]);
      const k = (await within(3000, apiGate.decide(req(key, '/k/x')), 'api key down')).r;
      assert.deepEqual([k.allow, k.status, k.code], [false, 500, 'AUTH-015'], 'an API key lookup that fails is a store error, never "unknown" and never allowed');

      admin = await start();
      await admin.set(`rs:apikey:${record.id}`, JSON.stringify(record)); // no persistence: re-seeded
      // The store reconnects by itself: the same Gate objects work again with the shared
      // limit. (The first connection may take longer than timeoutMs on a loaded machine:
      // such a request is 500 AUTH-015, as documented, never allowed.)
      const st = [];
      for (let j = 0; j < 40 && st.filter((x) => x === 429).length < 2; j++) {
        const d = (await within(3000, gates.deny.decide(req(toks[0])), 'after restart')).r;
        st.push(d.status);
        if (d.status === 500) assert.equal(d.code, 'AUTH-015');
        else if (!d.allow) assert.equal(d.code, 'AUTH-016');
        if (d.status === 500) await sleep(50);
      }
      // The restart lost the counter (no persistence): 3 per window again, never more.
      assert.equal(st.filter((x) => x === 200).length, 3, `after the restart: ${st}`);
      assert.equal(st.slice(-2).join(), '429,429');
      assert.equal((await apiGate.decide(req(key, '/k/x'))).allow, true, 'API key after the restart');
    } finally {
      await store.close();
    }
  });
});

describe('clock jumps (the `now` option)', () => {
  it('forward and back: token times follow the current reading; quota is never granted by going back', async () => {
    const T0 = Date.UTC(2030, 0, 1);
    let t = T0;
    const store = { isRevoked: async () => false };
    const gate = eg.Gate.create(
      {
        providers: [{ type: 'jwt', issuer: 'https://issuer.example', audience: 'api', secret: SECRET }],
        rateLimits: [{ name: 'r', algorithm: 'fixed-window', limit: 3, window: '1m', key: 'sub', store: 'memory' }],
        routes: [{ path: '/api/**', rateLimits: ['r'] }],
      },
      { env: {}, now: () => t, store },
    );
    const s = Math.floor(T0 / 1000);
    const tok = await new jose.SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setIssuer('https://issuer.example').setAudience('api').setSubject('c').setNotBefore(s - 60).setIssuedAt(s - 60).setExpirationTime(s + 3600).sign(new TextEncoder().encode(SECRET));
    const st = [];
    for (let i = 0; i < 4; i++) st.push((await gate.decide(req(tok))).status);
    assert.deepEqual(st, [200, 200, 200, 429]);
    // Back 30 min: before nbf, refused; the quota spent "later" is not granted again.
    t = T0 - 30 * MIN;
    const back = await gate.decide(req(tok));
    assert.equal(back.allow, false);
    assert.equal(back.code, 'AUTH-001', JSON.stringify(back));
    t = T0 + 10_000; // back within the window: still limited
    assert.equal((await gate.decide(req(tok))).status, 429);
    // Forward 2 h: expired.
    t = T0 + 120 * MIN;
    assert.deepEqual([(await gate.decide(req(tok))).code], ['AUTH-002']);
    // Back to the start: valid again, and the window spent is still spent.
    t = T0 + 20_000;
    assert.equal((await gate.decide(req(tok))).status, 429);
    t = T0 + 61_000; // the next window
    assert.equal((await gate.decide(req(tok))).status, 200);
  });
});

describe('a bad time from the host (AUTH-015)', () => {
  it('now() returning NaN, undefined, Infinity, a string, a negative number or year 10000: never allowed', async () => {
    const tok = await hs({ sub: 'x' });
    const { key } = eg.createApiKey({ account: 'a', roles: [], permissions: [], expiresAt: Math.floor(Date.now() / 1000) + 3600 });
    for (const bad of [NaN, undefined, Infinity, -Infinity, '1700000000000', -1, 253402300800 * 1000 + 1000, null, {}]) {
      const gate = eg.Gate.create(
        { providers: [{ type: 'jwt', issuer: 'https://issuer.example', audience: 'api', secret: SECRET }], apiKeys: { enabled: true }, routes: [{ path: '/api/**' }] },
        { env: {}, now: () => bad, store: { apiKey: async () => null } },
      );
      for (const cred of [tok, key]) {
        let d;
        try {
          d = await gate.decide(req(cred));
        } catch (e) {
          d = { allow: false, code: e.code };
        }
        assert.equal(d.allow, false, `now() = ${String(bad)}`);
        assert.equal(d.code, 'AUTH-015', `now() = ${String(bad)}: ${JSON.stringify(d)}`);
      }
    }
  });
});
