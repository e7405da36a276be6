// Against a real redis-server started here (127.0.0.1, random port): the Redis session store
// (`SessionManager({ storage: 'redis' })`, atomic updates across connections, the gate
// resolving sessions through it) and `edgegate ratelimit status` reading a Redis counter.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as jose from 'jose';
import { createClient } from 'redis';
import { importEdgegate, scratchDir } from './helpers/scratch.mjs';
import { startRedis } from './helpers/redis.mjs';

const eg = await importEdgegate();
const SECRET = 'redis-pkg2-test-secret-of-32-bytes-plus';

let redis;
let url;
let admin;
let port;

let dir;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'edgegate-redis-pkg2-files-'));
  redis = await startRedis('edgegate-redis-pkg2');
  ({ url, admin, port } = redis);
});

after(async () => {
  await redis?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('SessionManager with storage "redis"', () => {
  it('creates, reads, refreshes, lists and revokes; only hashes in Redis, with a TTL', async () => {
    let now = Date.now();
    const sm = new eg.SessionManager({ storage: 'redis', redis: { url, prefix: 't1:', ttl: 30 }, duration: 120, now: () => now });
    try {
      const s = await sm.createSession({ sub: 'alice', roles: ['admin'] }, { ipAddress: '127.0.0.1', userAgent: 'test' });
      const hash = eg.SessionManager.hash(s.id);
      const keys = await admin.keys('t1:*');
      assert.deepEqual(keys.sort(), [`t1:session:${hash}`, 't1:user-sessions:alice']);
      const raw = await admin.get(`t1:session:${hash}`);
      assert.ok(!raw.includes(s.id), 'the id is never stored');
      const ttl = await admin.pTTL(`t1:session:${hash}`);
      assert.ok(ttl > 120_000 && ttl <= 150_000, `record TTL ${ttl}`);
      assert.equal((await sm.getSession(s.id)).userId, 'alice');
      now += 60_000;
      const r = await sm.refreshSession(s.id);
      assert.equal(r.expiresAt, Math.floor(now / 1000) + 120);
      assert.equal((await sm.listUserSessions('alice')).length, 1);
      const b = await sm.createSession({ sub: 'alice' });
      assert.equal((await sm.listUserSessions('alice')).length, 2);
      assert.equal(await sm.revokeSession(s.id), true);
      assert.equal(await sm.getSession(s.id), null);
      assert.equal((await sm.listUserSessions('alice')).length, 1);
      assert.equal(await sm.revokeUserSessions('alice'), 1);
      assert.equal(await sm.getSession(b.id), null);
      assert.equal(await sm.revokeSession('no-such-id'), false);
    } finally {
      await sm.close();
    }
  });

  it('concurrent refreshes from two connections never lose a write (a revocation sticks)', async () => {
    const a = new eg.SessionManager({ storage: 'redis', redis: { url, prefix: 't2:' }, duration: 300 });
    const b = new eg.SessionManager({ storage: 'redis', redis: { url, prefix: 't2:' }, duration: 300 });
    try {
      for (let round = 0; round < 5; round++) {
        const s = await a.createSession({ sub: `u${round}` });
        const ops = [];
        for (let i = 0; i < 40; i++) ops.push((i % 2 ? a : b).refreshSession(s.id));
        ops.splice(17, 0, b.revokeSession(s.id));
        const rs = await Promise.all(ops);
        assert.equal(rs[17], true);
        assert.equal(await a.getSession(s.id), null, `round ${round}: a refresh overwrote the revocation`);
        const stored = JSON.parse(await admin.get(`t2:session:${eg.SessionManager.hash(s.id)}`));
        assert.equal(stored.revoked, true);
      }
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('the gate resolves sessions through it: allowed, then AUTH-010 once revoked, AUTH-008 unknown', async () => {
    const sm = new eg.SessionManager({ storage: 'redis', redis: { url, prefix: 't3:' } });
    try {
      const gate = eg.Gate.create({ tokenSources: [{ cookie: 'sid', session: true }], routes: [{ path: '/**' }] }, { env: {}, store: sm.gateStore() });
      const s = await sm.createSession({ sub: 'carol', roles: ['ops'] });
      const ask = (id) => gate.decide({ method: 'GET', path: '/x', headers: { cookie: `sid=${id}` } });
      const ok = await ask(s.id);
      assert.equal(ok.allow, true, JSON.stringify(ok));
      assert.equal(ok.identity.sub, 'carol');
      await sm.revokeSession(s.id);
      assert.equal((await ask(s.id)).code, 'AUTH-010');
      assert.equal((await ask('x'.repeat(43))).code, 'AUTH-008');
    } finally {
      await sm.close();
    }
  });

  it('a missing url is a config error', () => {
    assert.throws(() => new eg.SessionManager({ storage: 'redis' }), (e) => e.code === 'AUTH-015' && /redis/.test(e.message));
    assert.throws(() => new eg.SessionManager({ storage: 'nope' }), (e) => e.code === 'AUTH-015');
  });
});

describe('edgegate ratelimit status (redis)', () => {
  it('reads the counter the gate wrote, without consuming it', async () => {
    const config = {
      providers: [{ type: 'jwt', issuer: 'https://issuer.example', audience: 'api', secret: SECRET }],
      rateLimits: [{ name: 'per-user', algorithm: 'gcra', limit: 5, window: '1m', key: 'sub', store: 'redis' }],
      routes: [{ path: '/api/**', rateLimits: ['per-user'] }],
    };
    const store = eg.createRedisStore({ url, prefix: 'rl1:' });
    try {
      const gate = eg.Gate.create(config, { env: {}, store });
      const tok = await new jose.SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setIssuer('https://issuer.example').setAudience('api').setSubject('dave').setExpirationTime('5m').sign(new TextEncoder().encode(SECRET));
      for (let i = 0; i < 3; i++) assert.equal((await gate.decide({ method: 'GET', path: '/api/x', headers: { authorization: `Bearer ${tok}` } })).allow, true);
    } finally {
      await store.close();
    }
    const file = join(dir, 'rl.json');
    writeFileSync(file, JSON.stringify(config));
    const { spawnSync } = await import('node:child_process');
    const bin = join(scratchDir, 'node_modules', '.bin', 'edgegate');
    const run = (args) => spawnSync(bin, args, { encoding: 'utf8', env: { PATH: process.env.PATH } });
    const base = ['ratelimit', 'status', '--config', file, '--policy', 'per-user', '--redis-url', url, '--prefix', 'rl1:'];
    const r = run([...base, '--key', 'dave', '--format', 'json']);
    assert.equal(r.status, 0, r.stderr);
    const o = JSON.parse(r.stdout);
    assert.equal(o.meaningful, true);
    assert.equal(o.store, 'redis');
    assert.equal(o.state, 'ok');
    assert.equal(o.limit, 5);
    assert.equal(o.remaining, 2);
    assert.match(o.storeKey, /^rl:per-user:[0-9a-f]{64}$/);
    assert.equal(await admin.exists(`rl1:${o.storeKey}`), 1);
    assert.equal(JSON.parse(run([...base, '--key', 'dave', '--format', 'json']).stdout).remaining, 2, 'reading does not consume');
    const fresh = JSON.parse(run([...base, '--key', 'erin', '--format', 'json']).stdout);
    assert.equal(fresh.state, 'absent');
    assert.equal(fresh.remaining, 5);
    const text = run([...base, '--key', 'dave']);
    assert.match(text.stdout, /remaining 2 of 5/);
    const down = run(['ratelimit', 'status', '--config', file, '--policy', 'per-user', '--key', 'dave', '--redis-url', 'redis://127.0.0.1:1']);
    assert.equal(down.status, 2);
    assert.equal(run(['ratelimit', 'status', '--config', file, '--policy', 'per-user', '--key', 'dave']).status, 2, 'no Redis URL: usage error');
  });
});
