// edgegate/express, edgegate/hono, edgegate/fastify and the seed's factories, from the
// installed tarball: real apps on 127.0.0.1, real HTTP requests, jose-signed tokens. The
// same frameworks with tokens from a real OpenID provider: middleware-oidc.test.mjs.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import * as jose from 'jose';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { serve } from '@hono/node-server';
import { get } from './helpers/http.mjs';
import { importEdgegate, packageDir } from './helpers/scratch.mjs';

const eg = await importEdgegate();
const sub = (n) => import(pathToFileURL(join(packageDir, 'pkg-js', 'dist', 'esm', `${n}.js`)).href);
const { gate: expressGate } = await sub('express');
const { gate: honoGate } = await sub('hono');
const { default: fastifyGate } = await sub('fastify');

const SECRET = 'middleware-test-secret-of-32-bytes-or-more';
const env = { JWT_SECRET: SECRET };
const config = {
  providers: [{ type: 'jwt', issuer: 'https://issuer.example', audience: 'api', orgClaim: 'org_id' }],
  rbac: { roles: { admin: { inherits: ['viewer'], permissions: ['admin:*'] }, viewer: { permissions: ['*:read'] } } },
  routes: [
    { path: '/health', methods: ['GET'], public: true },
    { path: '/admin/**', roles: ['admin'] },
    { path: '/api/**' },
  ],
};
// The provider's secret and issuer come from the environment (JWT_SECRET, via the core's preset table).
const envFull = { ...env, JWT_ISSUER: 'https://issuer.example' };

function token(claims = {}, exp = '5m') {
  return new jose.SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuer('https://issuer.example').setAudience('api').setSubject('u1').setExpirationTime(exp).sign(new TextEncoder().encode(SECRET));
}

/** A body parser that reads the stream itself and continues later (after a timer). */
function delayedParser(req, _res, next) {
  if (req.readableEnded || req._body) return next();
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => setTimeout(() => ((req.rawBody = body), next()), 5));
}

describe('edgegate/express', () => {
  let base;
  let server;
  const events = [];
  before(async () => {
    const app = express();
    app.use(express.text()); // a parser before the gate (text/plain bodies)
    const mw = expressGate(config, { env: envFull });
    mw.on('auth:login', (id, info) => events.push(['login', id.sub, info.path]));
    mw.on('auth:unauthorized', (d, info) => events.push(['unauthorized', d.code, info.path]));
    mw.on('auth:login', () => {
      throw new Error('a throwing listener');
    });
    app.use(mw);
    const after = express.Router();
    after.use(express.json()); // a parser after the gate
    after.use(delayedParser);
    after.post('/api/echo', (req, res) => res.json({ body: req.body, ctx: eg.getAuth()?.sub ?? null, user: eg.getCurrentUser()?.sub ?? null }));
    after.post('/api/raw', (req, res) => res.json({ raw: req.rawBody ?? req.body ?? null, ctx: eg.getAuth()?.sub ?? null }));
    app.use(after);
    app.get('/health', (req, res) => res.json({ auth: req.auth }));
    app.get('/api/me', (req, res) => res.json({ auth: req.auth, ctx: eg.getAuth(), admin: eg.hasPermission('admin:write'), read: eg.hasPermission('posts:read') }));
    app.get('/admin/x', (req, res) => res.json({ ok: true }));
    server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${server.address().port}`;
  });
  after(() => server.close());

  it('allow: req.auth is the identity, getAuth() the same', async () => {
    const r = await get(base, '/api/me', await token({ roles: ['admin'], org_id: 'o1' }));
    assert.equal(r.status, 200);
    assert.equal(r.json.auth.sub, 'u1');
    assert.equal(r.json.auth.provider, 'jwt');
    assert.deepEqual(r.json.auth.roles.sort(), ['admin', 'viewer']);
    assert.equal(r.json.auth.org, 'o1');
    assert.equal(r.json.auth.claims.sub, 'u1');
    assert.equal(r.json.ctx.sub, 'u1');
    assert.equal(r.json.admin, true);
    assert.equal(r.json.read, true);
  });

  it('deny: status, WWW-Authenticate, problem+json; events without tokens; a throwing listener changes nothing', async () => {
    events.length = 0;
    const r = await get(base, '/api/me');
    assert.equal(r.status, 401);
    assert.match(r.headers.get('www-authenticate'), /^Bearer/);
    assert.equal(r.headers.get('content-type'), 'application/problem+json');
    assert.equal(r.json.code, 'AUTH-005');
    const t = await token({ roles: ['viewer'] });
    const f = await get(base, '/admin/x?access_token=x', t);
    assert.equal(f.status, 403);
    assert.equal(f.json.code, 'AUTH-012');
    const ok = await get(base, '/api/me', t);
    assert.equal(ok.status, 200, 'a throwing auth:login listener does not deny');
    assert.deepEqual(events, [
      ['unauthorized', 'AUTH-005', '/api/me'],
      ['unauthorized', 'AUTH-012', '/admin/x'],
      ['login', 'u1', '/api/me'],
    ]);
    assert.ok(!JSON.stringify(events).includes(t), 'no token in events');
  });

  it('public route: req.auth is null', async () => {
    const r = await get(base, '/health');
    assert.equal(r.status, 200);
    assert.equal(r.json.auth, null);
  });

  it('the context survives express.json() and a delayed stream parser after the gate', async () => {
    const t = await token();
    const r = await get(base, '/api/echo', t, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ a: 1 }) });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { body: { a: 1 }, ctx: 'u1', user: 'u1' });
    // The delayed stream parser after the gate.
    const r2 = await get(base, '/api/raw', t, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: 'hello' });
    assert.deepEqual(r2.json, { raw: 'hello', ctx: 'u1' });
    // express.text() before the gate.
    const r3 = await get(base, '/api/raw', t, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'before' });
    assert.deepEqual(r3.json, { raw: 'before', ctx: 'u1' });
  });

  it('concurrent requests keep their own context', async () => {
    const tokens = await Promise.all(['a', 'b', 'c', 'd'].map((s) => new jose.SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setIssuer('https://issuer.example').setAudience('api').setSubject(s).setExpirationTime('5m').sign(new TextEncoder().encode(SECRET))));
    const rs = await Promise.all(tokens.map((t) => get(base, '/api/raw', t, { method: 'POST', body: 'x', headers: { 'content-type': 'application/octet-stream' } })));
    assert.deepEqual(rs.map((r) => r.json.ctx), ['a', 'b', 'c', 'd']);
  });

  it('two Authorization headers are refused (Node itself answers 400; the gate reads rawHeaders too)', async () => {
    const t = await token();
    const { request } = await import('node:http');
    const u = new URL(base + '/api/me');
    const status = await new Promise((resolve, reject) => {
      const rq = request({ host: u.hostname, port: u.port, path: u.pathname, headers: [['authorization', `Bearer ${t}`], ['authorization', 'Bearer other']] }, (res) => {
        res.resume();
        resolve(res.statusCode);
      });
      rq.on('error', reject);
      rq.end();
    });
    assert.ok(status === 400 || status === 401, String(status));
  });

  it('onDenied answers denials; responseHeaders (when the decision has them) are set', async () => {
    const app = express();
    app.use(expressGate(config, { env: envFull, onDenied: (d, req, res) => res.status(d.status).json({ mine: d.code }) }));
    app.get('/api/x', (req, res) => res.json({ ok: 1 }));
    const s = app.listen(0, '127.0.0.1');
    await once(s, 'listening');
    const b = `http://127.0.0.1:${s.address().port}`;
    const r = await get(b, '/api/x');
    assert.deepEqual([r.status, r.json], [401, { mine: 'AUTH-005' }]);
    s.close();
    assert.deepEqual(eg.responseHeaders({ allow: true, responseHeaders: { 'ratelimit-policy': '"a";q=10;w=60' } }), { 'ratelimit-policy': '"a";q=10;w=60' });
  });

  it('client IP: the socket unless trustProxy', () => {
    const g = new eg.Guard(config, { env: envFull });
    assert.equal(g.clientIp('10.0.0.1', '1.2.3.4'), '10.0.0.1');
    const t = new eg.Guard(config, { env: envFull, trustProxy: 1 });
    assert.equal(t.clientIp('10.0.0.1', '9.9.9.9, 1.2.3.4'), '1.2.3.4');
    const all = new eg.Guard(config, { env: envFull, trustProxy: true });
    assert.equal(all.clientIp('10.0.0.1', '9.9.9.9, 1.2.3.4'), '9.9.9.9');
  });
});

describe('edgegate/hono (Node)', () => {
  let base;
  let server;
  before(async () => {
    const app = new Hono();
    app.use('*', honoGate(config, { env: envFull }));
    app.get('/health', (c) => c.json({ auth: c.get('auth'), uid: c.req.header('x-user-id') ?? null }));
    app.post('/api/echo', async (c) => {
      const body = await c.req.json();
      await new Promise((r) => setTimeout(r, 5));
      return c.json({ body, auth: c.get('auth').sub, ctx: eg.getAuth()?.sub ?? null, uid: c.req.header('x-user-id') ?? null, other: c.req.header('x-other') ?? null });
    });
    server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
    await once(server, 'listening');
    base = `http://127.0.0.1:${server.address().port}`;
  });
  after(() => server.close());

  it('allow: c.get("auth") and getAuth() after an async body read; forged identity headers replaced', async () => {
    const r = await get(base, '/api/echo', await token(), { method: 'POST', headers: { 'content-type': 'application/json', 'x-user-id': 'admin', 'x-other': 'kept' }, body: '{"a":2}' });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { body: { a: 2 }, auth: 'u1', ctx: 'u1', uid: 'u1', other: 'kept' });
    const pub = await get(base, '/health', undefined, { headers: { 'x-user-id': 'admin' } });
    assert.deepEqual(pub.json, { auth: null, uid: null });
  });

  it('deny: 401 with WWW-Authenticate and problem+json', async () => {
    const r = await get(base, '/api/echo', undefined, { method: 'POST', body: '{}' });
    assert.equal(r.status, 401);
    assert.match(r.headers.get('www-authenticate'), /^Bearer/);
    assert.equal(r.json.code, 'AUTH-005');
    const ok = await get(base, '/health');
    assert.deepEqual(ok.json, { auth: null, uid: null });
  });
});

describe('edgegate/fastify', () => {
  let base;
  let app;
  before(async () => {
    app = Fastify();
    await app.register(fastifyGate, { config, env: envFull });
    app.post('/api/echo', async (request) => {
      await new Promise((r) => setTimeout(r, 5));
      return { body: request.body, auth: request.auth.sub, ctx: eg.getAuth()?.sub ?? null };
    });
    app.get('/admin/x', async () => ({ ok: true }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${app.server.address().port}`;
  });
  after(() => app.close());

  it('allow: request.auth, getAuth() after body parsing', async () => {
    const r = await get(base, '/api/echo', await token(), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":3}' });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { body: { a: 3 }, auth: 'u1', ctx: 'u1' });
  });

  it('deny: 403 problem+json for a missing role', async () => {
    const r = await get(base, '/admin/x', await token({ roles: ['viewer'] }));
    assert.equal(r.status, 403);
    assert.equal(r.json.code, 'AUTH-012');
    assert.match(r.headers.get('content-type'), /^application\/problem\+json/);
  });
});

describe('seed factories', () => {
  it('createAuthMiddleware: publicRoutes with wildcards, optional, errors', async () => {
    const auth = await eg.createAuthMiddleware({ provider: 'jwt', providerConfig: { type: 'jwt', issuer: 'https://issuer.example' }, publicRoutes: ['/health', '/public/*'], env });
    assert.equal((await auth({ path: '/public/a/b' })).proceed, true);
    const miss = await auth({ path: '/api' });
    assert.deepEqual([miss.proceed, miss.error.statusCode, miss.error.code], [false, 401, 'AUTH-005']);
    const ok = await auth({ path: '/api', headers: { authorization: `Bearer ${await token({ roles: ['r'] })}` } });
    assert.equal(ok.proceed, true);
    assert.equal(ok.context.user.sub, 'u1');
    const opt = await eg.createAuthMiddleware({ provider: 'jwt', providerConfig: { issuer: 'https://issuer.example' }, optional: true, env });
    assert.equal((await opt({ path: '/x' })).proceed, true);
    const bad = await opt({ path: '/x', headers: { authorization: 'Bearer a.b.c' } });
    assert.equal(bad.proceed, false, 'optional still refuses a bad token');
  });

  it('createRBACMiddleware: hierarchy, rolePermissions with wildcards, super-admins, custom', async () => {
    const rbac = eg.createRBACMiddleware({
      roles: ['admin', 'moderator'],
      permissions: ['generate:execute'],
      superAdminRoles: ['super-admin'],
      roleHierarchy: { admin: ['moderator', 'viewer'], moderator: ['viewer'] },
      rolePermissions: { admin: ['generate:*'], moderator: ['admin:read'] },
    });
    const u = (roles, permissions = []) => ({ user: { sub: 'u', provider: 'x', roles, permissions, org: null, claims: {} }, authenticatedAt: new Date() });
    assert.equal((await rbac(u(['admin']))).proceed, true);
    const mod = await rbac(u(['moderator']));
    assert.deepEqual([mod.proceed, mod.error.code], [false, 'AUTH-011']);
    const viewer = await rbac(u(['viewer']));
    assert.deepEqual([viewer.proceed, viewer.error.code], [false, 'AUTH-012']);
    assert.equal((await rbac(u(['super-admin']))).proceed, true);
    assert.equal((await rbac(undefined)).error.code, 'AUTH-005');
    const custom = eg.createRBACMiddleware({ custom: (user) => user.sub === 'ok' });
    assert.equal((await custom({ user: { sub: 'no', provider: 'x', roles: [], permissions: [], org: null, claims: {} } })).proceed, false);
  });

  it('createProtectedMiddleware and createExpressAuthMiddleware', async () => {
    const p = await eg.createProtectedMiddleware({ auth: { provider: 'jwt', providerConfig: { issuer: 'https://issuer.example' }, publicRoutes: ['/health'], env }, rbac: { roles: ['admin'] } });
    assert.equal((await p({ path: '/x', headers: { authorization: `Bearer ${await token({ roles: ['viewer'] })}` } })).error.code, 'AUTH-012');
    assert.equal((await p({ path: '/x', headers: { authorization: `Bearer ${await token({ roles: ['admin'] })}` } })).proceed, true);
    const mw = await eg.createExpressAuthMiddleware({ provider: 'jwt', providerConfig: { type: 'jwt', secret: SECRET, issuer: 'https://issuer.example' } });
    const app = express();
    app.use(mw);
    app.get('/x', (req, res) => res.json({ user: req.user.sub, ctx: req.authContext.user.sub }));
    const s = app.listen(0, '127.0.0.1');
    await once(s, 'listening');
    const r = await get(`http://127.0.0.1:${s.address().port}`, '/x', await token());
    s.close();
    assert.deepEqual(r.json, { user: 'u1', ctx: 'u1' });
  });

  it('optional: an anonymous request keeps no client-sent identity headers', async () => {
    const mw = await eg.createExpressAuthMiddleware({ provider: 'jwt', providerConfig: { issuer: 'https://issuer.example' }, optional: true, env });
    const app = express();
    app.use(mw);
    app.get('/x', (req, res) => res.json({ user: req.user, spoofed: req.headers['x-user-id'] ?? null, roles: req.headers['x-user-roles'] ?? null, other: req.headers['x-other'] }));
    const s = app.listen(0, '127.0.0.1');
    await once(s, 'listening');
    const r = await get(`http://127.0.0.1:${s.address().port}`, '/x', undefined, { headers: { 'x-user-id': 'admin', 'X-User-Roles': 'admin', 'x-other': 'kept' } });
    s.close();
    assert.deepEqual(r.json, { user: null, spoofed: null, roles: null, other: 'kept' });
  });

  it('optional is the core route rule: decision reason anonymous; combined with RBAC roles a config error', async () => {
    const gate = await eg.Gate.create({ providers: [{ type: 'jwt', issuer: 'https://issuer.example', secret: { env: 'JWT_SECRET' } }], routes: [{ path: '/feed', optional: true }] }, { env });
    const anon = await gate.decide({ method: 'GET', path: '/feed', headers: { 'x-user-id': 'admin' } });
    assert.deepEqual([anon.allow, anon.reason, anon.identity], [true, 'anonymous', null]);
    assert.ok(anon.stripHeaders.map((h) => h.toLowerCase()).includes('x-user-id'));
    const expired = await gate.decide({ method: 'GET', path: '/feed', headers: { authorization: `Bearer ${await token({}, '-1m')}` } });
    assert.deepEqual([expired.allow, expired.code], [false, 'AUTH-002']);
    await assert.rejects(
      eg.createProtectedMiddleware({ auth: { provider: 'jwt', providerConfig: { issuer: 'https://issuer.example' }, optional: true, env }, rbac: { roles: ['admin'] } }),
      (e) => e.code === 'AUTH-015' && /optional/.test(e.message),
    );
  });

  it('context helpers outside a request and with runWithAuthContext', async () => {
    assert.equal(eg.getAuthContext(), undefined);
    assert.throws(() => eg.requireAuth(), (e) => e.code === 'AUTH-005');
    const user = { sub: 's', provider: 'p', roles: ['a'], permissions: ['reports:*'], org: null, claims: {} };
    await eg.runWithAuthContext({ user, authenticatedAt: new Date() }, async () => {
      await new Promise((r) => setTimeout(r, 1));
      assert.equal(eg.getCurrentUser().sub, 's');
      assert.equal(eg.hasRole('a'), true);
      assert.equal(eg.hasAnyRole(['x', 'a']), true);
      assert.equal(eg.hasPermission('reports:read:all'), true);
      assert.equal(eg.hasAllPermissions(['reports:read', 'posts:read']), false);
      assert.throws(() => eg.requireRole('b'), (e) => e.code === 'AUTH-012');
      assert.throws(() => eg.requirePermission('posts:read'), (e) => e.code === 'AUTH-011');
    });
    eg.globalAuthContext.set({ user, authenticatedAt: new Date() });
    assert.equal(eg.globalAuthContext.getUser().sub, 's');
    eg.globalAuthContext.clear();
    assert.equal(eg.globalAuthContext.getUser(), undefined);
  });
});
