// edgegate/express, edgegate/hono and edgegate/fastify (from the installed tarball) on
// 127.0.0.1 deciding tokens issued by a real OpenID provider running locally (oidc-provider,
// pkg-js/test/helpers/oidc.mjs): discovery (issuer -> jwks_uri) or `jwksUrl` from the
// provider, JWT access tokens signed RS256 and ES256 by the provider's own keys, roles from
// its `extraTokenClaims`, genuinely expired tokens (1 s lifetime), key rotation at the
// provider, and opaque tokens through its RFC 7662 introspection endpoint.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { serve } from '@hono/node-server';
import { get, tamperRoles } from './helpers/http.mjs';
import { importEdgegate, packageDir } from './helpers/scratch.mjs';
import { AUDIENCE, INTROSPECTION_CLIENT, startOidcProvider } from './helpers/oidc.mjs';

const eg = await importEdgegate();
const sub = (n) => import(pathToFileURL(join(packageDir, 'pkg-js', 'dist', 'esm', `${n}.js`)).href);
const { gate: expressGate } = await sub('express');
const { gate: honoGate } = await sub('hono');
const { default: fastifyGate } = await sub('fastify');

let op;
before(async () => {
  op = await startOidcProvider();
});
after(async () => {
  await op?.stop();
});

const routes = [
  { path: '/health', methods: ['GET'], public: true },
  { path: '/admin/**', roles: ['admin'] },
  { path: '/api/**' },
];
/** `oauth2` with discovery: the gate reads `<issuer>/.well-known/openid-configuration`. */
const discoveryConfig = () => ({
  providers: [{ type: 'oauth2', name: 'op', issuer: op.issuer, audience: AUDIENCE, orgClaim: 'org' }],
  routes,
});
/** `oauth2` with the provider's `jwks_uri` given, and its introspection endpoint for opaque tokens. */
const jwksConfig = () => ({
  providers: [
    {
      type: 'oauth2',
      name: 'op',
      issuer: op.issuer,
      audience: AUDIENCE,
      jwksUrl: op.discovery.jwks_uri,
      orgClaim: 'org',
      introspection: { url: op.discovery.introspection_endpoint, clientId: INTROSPECTION_CLIENT.id, clientSecret: INTROSPECTION_CLIENT.secret },
    },
  ],
  routes,
});

const tamper = tamperRoles;

function assertDenied(r, status, code, wwwAuth) {
  assert.equal(r.status, status, r.text);
  assert.match(r.headers.get('content-type'), /^application\/problem\+json/);
  assert.equal(r.json.code, code, r.text);
  if (typeof wwwAuth === 'string') assert.equal(r.headers.get('www-authenticate'), wwwAuth);
  else assert.match(r.headers.get('www-authenticate'), wwwAuth);
}

/** The shared allow / deny scenarios against an app at `base()` answering `/api/me` and `/admin/x` with the identity. */
function scenarios(name, base, identityOf) {
  it(`${name}: a user token from the provider (RS256, via discovery) is allowed with its identity`, async () => {
    const r = await get(base(), '/api/me', await op.token('alice'));
    assert.equal(r.status, 200, r.text);
    const id = identityOf(r.json);
    assert.equal(id.sub, 'alice');
    assert.equal(id.provider, 'op');
    assert.deepEqual(id.roles, ['user']);
    assert.equal(id.org, 'acme');
    assert.equal(id.claims.iss, op.issuer);
    assert.equal(id.claims.client_id, 'alice');
  });

  it(`${name}: an admin token (ES256) passes the admin route; a user token is 403 insufficient_scope`, async () => {
    const admin = await get(base(), '/admin/x', await op.token('root', { alg: 'ES256' }));
    assert.equal(admin.status, 200, admin.text);
    assert.equal(identityOf(admin.json).sub, 'root');
    const user = await get(base(), '/admin/x', await op.token('alice'));
    assertDenied(user, 403, 'AUTH-012', /^Bearer realm="edgegate", error="insufficient_scope"/);
    const none = await get(base(), '/admin/x', await op.token('nobody', { alg: 'ES256' }));
    assertDenied(none, 403, 'AUTH-012', /error="insufficient_scope"/);
  });

  it(`${name}: no token 401; a tampered provider token 401 invalid_token`, async () => {
    assertDenied(await get(base(), '/api/me'), 401, 'AUTH-005', 'Bearer realm="edgegate"');
    const forged = await get(base(), '/admin/x', tamper(await op.token('alice')));
    assertDenied(forged, 401, 'AUTH-004', /^Bearer realm="edgegate", error="invalid_token"/);
  });

  it(`${name}: a token the provider issued with a 1 s lifetime, once expired: 401 AUTH-002`, async () => {
    const tok = await op.token('alice', { ttl: 1 });
    const exp = JSON.parse(Buffer.from(tok.split('.')[1], 'base64url')).exp;
    await new Promise((r) => setTimeout(r, Math.max(0, exp * 1000 - Date.now()) + 1100));
    const r = await get(base(), '/api/me', tok);
    assertDenied(r, 401, 'AUTH-002', 'Bearer realm="edgegate", error="invalid_token", error_description="token expired"');
  });
}

describe('edgegate/express with a real OpenID provider', () => {
  let base;
  let server;
  before(async () => {
    const app = express();
    app.use(expressGate(discoveryConfig(), { env: {} }));
    app.use(express.json());
    app.get('/api/me', (req, res) => res.json({ auth: req.auth, ctx: eg.getAuth()?.sub ?? null }));
    app.get('/admin/x', (req, res) => res.json({ auth: req.auth }));
    server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${server.address().port}`;
  });
  after(() => {
    server.closeAllConnections?.();
    server.close();
  });
  scenarios('express', () => base, (j) => j.auth);

  it('express: the discovery document and the JWKS were fetched from the provider', () => {
    assert.ok(op.count('/.well-known/openid-configuration') >= 2, 'discovery (the helper once, the gate at least once)');
    assert.ok(op.count('/jwks') >= 1, 'jwks_uri');
  });
});

describe('edgegate/hono (Node) with a real OpenID provider', () => {
  let base;
  let server;
  before(async () => {
    const app = new Hono();
    app.use('*', honoGate(jwksConfig(), { env: {} }));
    app.get('/api/me', (c) => c.json({ auth: c.get('auth') }));
    app.get('/admin/x', (c) => c.json({ auth: c.get('auth') }));
    server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
    await once(server, 'listening');
    base = `http://127.0.0.1:${server.address().port}`;
  });
  after(() => {
    server.closeAllConnections?.();
    server.close();
  });
  scenarios('hono', () => base, (j) => j.auth);

  it('hono: an opaque token is introspected at the provider (RFC 7662): allowed with its roles; admin route 403', async () => {
    const before = op.count('/token/introspection');
    const tok = await op.token('bob', { format: 'opaque' });
    assert.equal(tok.split('.').length, 1, 'opaque, not a JWT');
    const r = await get(base, '/admin/x', tok);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.auth.sub, 'bob');
    assert.deepEqual([...r.json.auth.roles].sort(), ['admin', 'user']);
    assert.equal(op.count('/token/introspection'), before + 1);
    const user = await op.token('alice', { format: 'opaque' });
    assertDenied(await get(base, '/admin/x', user), 403, 'AUTH-012', /error="insufficient_scope"/);
    // An opaque token the provider never issued: inactive, 401.
    assertDenied(await get(base, '/api/me', 'not-a-token-the-provider-issued-0123456789'), 401, 'AUTH-001', /error="invalid_token"/);
  });
});

describe('edgegate/fastify with a real OpenID provider', () => {
  let base;
  let app;
  before(async () => {
    app = Fastify();
    // A short cooldown so that the rotation test does not wait 30 s for an unknown kid refetch.
    await app.register(fastifyGate, { config: discoveryConfig(), env: {}, cooldownDuration: 1000 });
    app.get('/api/me', async (request) => ({ auth: request.auth }));
    app.get('/admin/x', async (request) => ({ auth: request.auth }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${app.server.address().port}`;
  });
  after(() => app.close());
  scenarios('fastify', () => base, (j) => j.auth);

  it('fastify: key rotation at the provider is picked up (unknown kid -> refetch); a token from a dropped key is refused', async () => {
    const old = await op.token('alice');
    assert.equal((await get(base, '/api/me', old)).status, 200);
    await new Promise((r) => setTimeout(r, 1100)); // past the cooldown
    const jwksBefore = op.count('/jwks');
    await op.rotate();
    const fresh = await op.token('alice');
    assert.notEqual(JSON.parse(Buffer.from(fresh.split('.')[0], 'base64url')).kid, JSON.parse(Buffer.from(old.split('.')[0], 'base64url')).kid);
    const r = await get(base, '/api/me', fresh);
    assert.equal(r.status, 200, r.text);
    assert.ok(op.count('/jwks') > jwksBefore, 'the new key set was fetched');
    await new Promise((r) => setTimeout(r, 1100));
    const gone = await get(base, '/api/me', old);
    assert.equal(gone.status, 401, gone.text);
    assert.match(gone.headers.get('www-authenticate'), /error="invalid_token"/);
  });
});
