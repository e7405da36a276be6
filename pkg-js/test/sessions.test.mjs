// SessionManager (memory store) and the session token source, from the installed tarball:
// ids of 256 bits, only hashes stored, the gate judging sessions (AUTH-008/009/010), cookie
// helper, refresh, revocation, limits, and an Express app on 127.0.0.1.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import express from 'express';
import { importEdgegate, packageDir } from './helpers/scratch.mjs';

const eg = await importEdgegate();
const { gate } = await import(pathToFileURL(join(packageDir, 'pkg-js', 'dist', 'esm', 'express.js')).href);

const config = {
  tokenSources: [{ cookie: 'sid', session: true }],
  rbac: { roles: { admin: { permissions: ['admin:*'] } } },
  routes: [{ path: '/login', public: true }, { path: '/admin/**', permissions: ['admin:write'] }, { path: '/**' }],
};

describe('SessionManager', () => {
  it('creates 256-bit ids, stores only hashes, lists, refreshes, revokes', async () => {
    let now = 1_700_000_000_000;
    const seen = [];
    const mem = new eg.MemorySessionStore();
    const store = { get: (h) => mem.get(h), set: (r) => (seen.push(r), mem.set(r)), update: (h, f) => mem.update(h, f), byUser: (u) => mem.byUser(u) };
    const sm = new eg.SessionManager({ storage: store, duration: 60, now: () => now });
    const s = await sm.createSession({ sub: 'u1', roles: ['admin'] }, { ipAddress: '127.0.0.1', userAgent: 'test' });
    assert.match(s.id, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(s.userId, 'u1');
    assert.ok(!JSON.stringify(seen).includes(s.id), 'the id is never stored');
    assert.equal(seen[0].hash, eg.SessionManager.hash(s.id));
    assert.equal((await sm.getSession(s.id)).userId, 'u1');
    now += 50_000;
    assert.equal((await sm.refreshSession(s.id)).expiresAt, 1_700_000_050 + 60);
    assert.equal((await sm.listUserSessions('u1')).length, 1);
    assert.equal(await sm.revokeSession(s.id), true);
    assert.equal(await sm.getSession(s.id), null);
    assert.match(sm.cookie(s.id), /^sid=[^;]+; HttpOnly; Secure; SameSite=Lax; Path=\/; Max-Age=60$/);
  });

  it('maxSessionsPerUser and allowMultipleSessions revoke the oldest', async () => {
    const sm = new eg.SessionManager({ maxSessionsPerUser: 2 });
    const a = await sm.createSession({ id: 'u' });
    await sm.createSession({ id: 'u' });
    await sm.createSession({ id: 'u' });
    assert.equal((await sm.listUserSessions('u')).length, 2);
    assert.equal(await sm.getSession(a.id), null);
    const one = new eg.SessionManager({ allowMultipleSessions: false });
    const x = await one.createSession({ id: 'v' });
    await one.createSession({ id: 'v' });
    assert.equal(await one.getSession(x.id), null);
    assert.equal(await one.revokeUserSessions('v'), 1);
  });

  it('concurrent refreshes do not lose a write', async () => {
    let now = 1_700_000_000_000;
    const sm = new eg.SessionManager({ duration: 100, now: () => now });
    const s = await sm.createSession({ id: 'c' });
    now += 10_000;
    const rs = await Promise.all([sm.refreshSession(s.id), sm.revokeSession(s.id), sm.refreshSession(s.id)]);
    assert.equal(rs[1], true);
    assert.equal(await sm.getSession(s.id), null, 'the revocation is not overwritten by a refresh');
  });
});

describe('the gate with sessions (Express)', () => {
  it('login sets the cookie; the gate resolves the session; revoked, expired and unknown are denied', async () => {
    let now = 1_700_000_000_000;
    const sessions = new eg.SessionManager({ duration: 60, autoRefresh: false, now: () => now });
    const app = express();
    app.use(gate(config, { store: sessions.gateStore(), now: () => now }));
    app.post('/login', async (req, res) => {
      const s = await sessions.createSession({ sub: 'alice', roles: ['admin'] });
      res.setHeader('set-cookie', sessions.cookie(s.id)).json({ ok: true });
    });
    app.get('/me', (req, res) => res.json({ auth: req.auth, ctx: eg.getAuth()?.sub, session: eg.getCurrentSession() }));
    app.get('/admin/x', (req, res) => res.json({ ok: true }));
    const server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const base = `http://127.0.0.1:${server.address().port}`;
    try {
      const login = await fetch(`${base}/login`, { method: 'POST' });
      const cookie = login.headers.get('set-cookie').split(';')[0];
      const me = await (await fetch(`${base}/me`, { headers: { cookie } })).json();
      assert.deepEqual([me.auth.sub, me.auth.provider, me.ctx], ['alice', 'session', 'alice']);
      assert.deepEqual(me.session, { userId: 'alice', expiresAt: 1_700_000_060 });
      assert.equal((await fetch(`${base}/admin/x`, { headers: { cookie } })).status, 200);
      const unknown = await fetch(`${base}/me`, { headers: { cookie: 'sid=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' } });
      assert.deepEqual([unknown.status, (await unknown.json()).code], [401, 'AUTH-008']);
      now += 61_000;
      const expired = await fetch(`${base}/me`, { headers: { cookie } });
      assert.deepEqual([expired.status, (await expired.json()).code], [401, 'AUTH-009']);
      now -= 61_000;
      await sessions.revokeSession(cookie.slice(4));
      const revoked = await fetch(`${base}/me`, { headers: { cookie } });
      assert.deepEqual([revoked.status, (await revoked.json()).code], [401, 'AUTH-010']);
    } finally {
      server.close();
    }
  });
});
