// Identity-provider admin lookups (issue #12): `createAdminClient` / `createAdminClientFromEnv`
// and `edgegate users get`, against a local node:http server on 127.0.0.1 that implements the
// documented endpoints of the Auth0 Management API (POST /oauth/token JSON, GET
// /api/v2/users/{id}) and the Keycloak Admin API (POST
// /realms/{realm}/protocol/openid-connect/token form-encoded, GET /admin/realms/{realm}/users/{id}).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { importEdgegate, requireEdgegate, scratchDir } from './helpers/scratch.mjs';
import { runCli as run } from './helpers/scratch.mjs';

const eg = await importEdgegate();

const CLIENT_ID = 'edgegate-admin';
const SECRET = 'idp-admin-secret-Zq8v1-never-printed';

const AUTH0_USERS = {
  'auth0|1': { user_id: 'auth0|1', email: 'ann@example.com', email_verified: true, name: 'Ann Lee', nickname: 'ann', picture: 'https://cdn.example/ann.png', identities: [{ provider: 'auth0' }], logins_count: 3 },
  'auth0|blocked': { user_id: 'auth0|blocked', email: 'bo@example.com', email_verified: false, name: 'Bo', nickname: 'bo', blocked: true },
  'auth0|a/b': { user_id: 'auth0|a/b', email: 'slash@example.com' },
};
const KC_USERS = {
  'f3b1c2d4-0000-4000-8000-000000000001': { id: 'f3b1c2d4-0000-4000-8000-000000000001', username: 'carol', email: 'carol@example.com', emailVerified: true, firstName: 'Carol', lastName: 'King', enabled: true, createdTimestamp: 1700000000000, totp: false },
  'kc-disabled': { id: 'kc-disabled', username: 'dan', enabled: false },
};
for (let i = 0; i < 50; i++) AUTH0_USERS[`auth0|n${i}`] = { user_id: `auth0|n${i}`, email: `n${i}@example.com` };

const s = { tokenRequests: 0, userRequests: 0, paths: [], valid: new Set(), expiresIn: 86400, seq: 0, forbid: false, always401: false, open: new Set() };
let base;

function json(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function readBody(req) {
  let b = '';
  for await (const c of req) b += c;
  return b;
}

function issue(res, prefix) {
  const t = `${prefix}-tok-${++s.seq}`;
  s.valid.add(t);
  json(res, 200, { access_token: t, token_type: 'Bearer', expires_in: s.expiresIn, scope: 'read:users' });
}

function bearerOk(req) {
  const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
  return !s.always401 && m && s.valid.has(m[1]);
}

const server = createServer(async (req, res) => {
  s.open.add(res);
  res.on('close', () => s.open.delete(res));
  const path = req.url;
  s.paths.push(`${req.method} ${path}`);
  // Auth0: POST {base}/oauth/token, JSON, audience {base}/api/v2/.
  if (req.method === 'POST' && path === '/oauth/token') {
    s.tokenRequests++;
    const body = await readBody(req);
    if (!/^application\/json/.test(req.headers['content-type'] ?? '')) return json(res, 400, { error: 'invalid_request' });
    const b = JSON.parse(body);
    if (b.grant_type !== 'client_credentials') return json(res, 400, { error: 'unsupported_grant_type' });
    if (b.client_id !== CLIENT_ID || b.client_secret !== SECRET) return json(res, 401, { error: 'access_denied', error_description: 'Unauthorized' });
    if (b.audience !== `${base}/api/v2/`) return json(res, 403, { error: 'access_denied', error_description: 'Service not enabled within domain' });
    return issue(res, 'a0');
  }
  // Keycloak: POST <server>/realms/<realm>/protocol/openid-connect/token, form-encoded.
  if (req.method === 'POST' && path === '/kc/realms/acme/protocol/openid-connect/token') {
    s.tokenRequests++;
    const body = await readBody(req);
    if (!/^application\/x-www-form-urlencoded/.test(req.headers['content-type'] ?? '')) return json(res, 400, { error: 'invalid_request' });
    const f = new URLSearchParams(body);
    if (f.get('grant_type') !== 'client_credentials') return json(res, 400, { error: 'unsupported_grant_type' });
    if (f.get('client_id') !== CLIENT_ID || f.get('client_secret') !== SECRET) return json(res, 401, { error: 'unauthorized_client', error_description: 'Invalid client or Invalid client credentials' });
    return issue(res, 'kc');
  }
  const a0 = /^\/api\/v2\/users\/([^/]+)$/.exec(path);
  const kc = /^\/kc\/admin\/realms\/acme\/users\/([^/]+)$/.exec(path);
  if (req.method === 'GET' && (a0 || kc)) {
    s.userRequests++;
    if (!bearerOk(req)) return json(res, 401, { statusCode: 401, error: 'Unauthorized', message: 'Invalid token' });
    if (s.forbid) return json(res, 403, { statusCode: 403, error: 'Forbidden', message: 'Insufficient scope, expected any of: read:users' });
    const id = decodeURIComponent((a0 ?? kc)[1]);
    if (id === 'slow') return; // never answers
    if (id === 'huge') {
      // An endless body: the client must stop reading at its limit.
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"user_id":"huge","name":"');
      const chunk = 'x'.repeat(64 * 1024);
      const pump = () => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', pump);
      };
      return pump();
    }
    if (id === 'bad') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end('{"user_id":"bad",');
    }
    if (id === 'other') return json(res, 200, a0 ? AUTH0_USERS['auth0|1'] : KC_USERS['kc-disabled']);
    const u = (a0 ? AUTH0_USERS : KC_USERS)[id];
    if (!u) return json(res, 404, a0 ? { statusCode: 404, error: 'Not Found', message: 'The user does not exist.', errorCode: 'inexistent_user' } : { error: 'User not found' });
    return json(res, 200, u);
  }
  json(res, 404, { error: 'no such endpoint' });
});

before(async () => {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${server.address().port}`;
});
after(() => {
  for (const r of s.open) r.destroy();
  server.closeAllConnections?.();
  server.close();
});
beforeEach(() => {
  Object.assign(s, { tokenRequests: 0, userRequests: 0, paths: [], expiresIn: 86400, forbid: false, always401: false });
});

const auth0 = (o = {}) => eg.createAdminClient({ provider: 'auth0', baseUrl: base, clientId: CLIENT_ID, clientSecret: SECRET, ...o });
const keycloak = (o = {}) => eg.createAdminClient({ provider: 'keycloak', baseUrl: `${base}/kc/admin/realms/acme`, clientId: CLIENT_ID, clientSecret: SECRET, ...o });

async function rejects(p, code) {
  try {
    await p;
  } catch (e) {
    assert.ok(eg.isAuthError(e), `not an AuthError: ${e}`);
    assert.equal(e.code, code, e.message);
    assert.ok(!e.message.includes(SECRET) && !String(e.stack).includes(SECRET) && !JSON.stringify(e).includes(SECRET), 'the secret leaked into the error');
    assert.ok(!/-tok-\d/.test(e.message), 'an access token leaked into the error');
    return e;
  }
  assert.fail(`expected ${code}`);
}

describe('identity-provider admin lookups: profiles', () => {
  it('auth0: the Management API user is normalized', async () => {
    const u = await auth0().getUser('auth0|1');
    assert.deepEqual(u, { id: 'auth0|1', email: 'ann@example.com', emailVerified: true, name: 'Ann Lee', username: 'ann', picture: 'https://cdn.example/ann.png', enabled: true, provider: 'auth0' });
    assert.deepEqual(s.paths, ['POST /oauth/token', 'GET /api/v2/users/auth0%7C1']);
  });

  it('keycloak: the UserRepresentation is normalized (firstName lastName, enabled)', async () => {
    const c = keycloak();
    const u = await c.getUser('f3b1c2d4-0000-4000-8000-000000000001');
    assert.deepEqual(u, { id: 'f3b1c2d4-0000-4000-8000-000000000001', email: 'carol@example.com', emailVerified: true, name: 'Carol King', username: 'carol', picture: null, enabled: true, provider: 'keycloak' });
    const d = await c.getUser('kc-disabled');
    assert.deepEqual([d.enabled, d.emailVerified, d.name, d.email], [false, false, null, null]);
    assert.deepEqual(s.paths.slice(0, 2), ['POST /kc/realms/acme/protocol/openid-connect/token', 'GET /kc/admin/realms/acme/users/f3b1c2d4-0000-4000-8000-000000000001']);
  });

  it('a missing user is AUTH-017 (404, "user not found"), cached briefly', async () => {
    let now = 1_700_000_000_000;
    const c = auth0({ now: () => now, negativeCacheTtlMs: 2000 });
    const e = await rejects(c.getUser('auth0|nobody'), 'AUTH-017');
    assert.equal(e.status, 404);
    assert.equal(e.message, 'user not found');
    await rejects(c.getUser('auth0|nobody'), 'AUTH-017');
    assert.equal(s.userRequests, 1, 'the 404 is cached');
    now += 2001;
    await rejects(c.getUser('auth0|nobody'), 'AUTH-017');
    assert.equal(s.userRequests, 2, 'the negative cache is short');
    await rejects(keycloak().getUser('nope'), 'AUTH-017');
  });

  it('requireEnabled: a blocked (Auth0) or disabled (Keycloak) user is AUTH-018', async () => {
    const c = auth0();
    assert.equal((await c.getUser('auth0|blocked')).enabled, false);
    const e = await rejects(c.getUser('auth0|blocked', { requireEnabled: true }), 'AUTH-018');
    assert.equal(e.status, 403);
    assert.equal((await c.getUser('auth0|1', { requireEnabled: true })).id, 'auth0|1');
    await rejects(keycloak().getUser('kc-disabled', { requireEnabled: true }), 'AUTH-018');
  });

  it('ids are URL-encoded; "." and ".." never reach the API (they would address the collection or its parent)', async () => {
    const c = auth0();
    assert.equal((await c.getUser('auth0|a/b')).email, 'slash@example.com');
    assert.ok(s.paths.includes('GET /api/v2/users/auth0%7Ca%2Fb'), s.paths.join());
    const before = s.paths.length;
    for (const id of ['..', '.', '']) await rejects(c.getUser(id), 'AUTH-017');
    assert.equal(s.paths.length, before, 'no request for an id that cannot name a user');
  });

  it('an answer about another user than the one asked for is AUTH-014', async () => {
    const e = await rejects(auth0().getUser('other'), 'AUTH-014');
    assert.match(e.message, /another user/);
  });
});

describe('identity-provider admin lookups: caches', () => {
  it('the access token is cached: one token request for many lookups', async () => {
    const c = auth0({ maxCacheEntries: 0 });
    for (let i = 0; i < 20; i++) await c.getUser(`auth0|n${i}`);
    assert.equal(s.tokenRequests, 1);
    assert.equal(s.userRequests, 20);
  });

  it('single flight: concurrent lookups share one token request and one request per id', async () => {
    const c = auth0();
    const same = await Promise.all(Array.from({ length: 10 }, () => c.getUser('auth0|1')));
    assert.ok(same.every((u) => u.id === 'auth0|1'));
    assert.equal(s.tokenRequests, 1);
    assert.equal(s.userRequests, 1);
    const c2 = keycloak();
    await Promise.all(['f3b1c2d4-0000-4000-8000-000000000001', 'kc-disabled'].flatMap((id) => [c2.getUser(id), c2.getUser(id)]));
    assert.equal(s.tokenRequests, 2, 'one token for the second client');
    assert.equal(s.userRequests, 3);
    // A caller mutating its answer does not change the cache.
    same[0].email = 'changed';
    assert.equal((await c.getUser('auth0|1')).email, 'ann@example.com');
  });

  it('answers are cached for cacheTtlMs in an LRU of maxCacheEntries', async () => {
    let now = 1_700_000_000_000;
    const c = auth0({ maxCacheEntries: 2, cacheTtlMs: 10_000, now: () => now });
    await c.getUser('auth0|n0');
    await c.getUser('auth0|n1');
    await c.getUser('auth0|n0'); // n0 most recent
    assert.equal(s.userRequests, 2);
    await c.getUser('auth0|n2'); // evicts n1 (least recently used)
    await c.getUser('auth0|n0');
    assert.equal(s.userRequests, 3, 'n0 still cached');
    await c.getUser('auth0|n1');
    assert.equal(s.userRequests, 4, 'n1 was evicted');
    now += 10_001;
    await c.getUser('auth0|n1');
    assert.equal(s.userRequests, 5, 'expired after cacheTtlMs');
    c.clear();
    await c.getUser('auth0|n1');
    assert.equal(s.userRequests, 6);
    assert.equal(s.tokenRequests, 2, 'clear() forgets the token too');
  });

  it('the token is refreshed before expires_in (minus a skew)', async () => {
    let now = 1_700_000_000_000;
    s.expiresIn = 120;
    const c = auth0({ maxCacheEntries: 0, now: () => now });
    await c.getUser('auth0|1');
    now += 85_000; // 120 s - 30 s skew = 90 s
    await c.getUser('auth0|1');
    assert.equal(s.tokenRequests, 1);
    now += 6_000;
    await c.getUser('auth0|1');
    assert.equal(s.tokenRequests, 2, 'refreshed within the skew');
  });

  it('a 401 from the API re-fetches the token once (shared by concurrent callers), then succeeds', async () => {
    const c = auth0({ maxCacheEntries: 0 });
    await c.getUser('auth0|1');
    s.valid.clear(); // the provider revoked every token
    const r = await Promise.all([c.getUser('auth0|1'), c.getUser('auth0|n1'), c.getUser('auth0|n2')]);
    assert.deepEqual(r.map((u) => u.id), ['auth0|1', 'auth0|n1', 'auth0|n2']);
    assert.equal(s.tokenRequests, 2, 'one refresh for all');
    s.always401 = true;
    const before = s.tokenRequests;
    const e = await rejects(c.getUser('auth0|1'), 'AUTH-014');
    assert.match(e.message, /401/);
    assert.equal(s.tokenRequests, before + 1, 'one retry, not a loop');
  });
});

describe('identity-provider admin lookups: failures', () => {
  it('wrong credentials: AUTH-014 saying the token endpoint refused them, never the secret', async () => {
    const wrong = `${SECRET}-wrong`;
    for (const c of [eg.createAdminClient({ baseUrl: base, clientId: CLIENT_ID, clientSecret: wrong }), eg.createAdminClient({ provider: 'keycloak', baseUrl: `${base}/kc/admin/realms/acme`, clientId: CLIENT_ID, clientSecret: wrong })]) {
      const e = await rejects(c.getUser('auth0|1'), 'AUTH-014');
      assert.match(e.message, /refused the client credentials/);
      assert.equal(e.status, 502);
      assert.ok(!e.message.includes(wrong));
    }
  });

  it('403 from the API: AUTH-014 naming the missing permission', async () => {
    s.forbid = true;
    assert.match((await rejects(auth0().getUser('auth0|1'), 'AUTH-014')).message, /read:users/);
    assert.match((await rejects(keycloak().getUser('kc-disabled'), 'AUTH-014')).message, /view-users/);
  });

  it('timeout: AUTH-014 in bounded time', async () => {
    const t0 = Date.now();
    const e = await rejects(auth0({ timeoutMs: 300 }).getUser('slow'), 'AUTH-014');
    assert.match(e.message, /timed out after 300 ms/);
    assert.ok(Date.now() - t0 < 3000);
  });

  it('unreachable API: AUTH-014', async () => {
    const c = eg.createAdminClient({ baseUrl: 'http://127.0.0.1:1', clientId: CLIENT_ID, clientSecret: SECRET, timeoutMs: 2000 });
    assert.match((await rejects(c.getUser('auth0|1'), 'AUTH-014')).message, /cannot be reached|timed out/);
  });

  it('oversized (endless) body: AUTH-014, read stops at the limit', async () => {
    const t0 = Date.now();
    const e = await rejects(auth0({ maxResponseBytes: 100_000 }).getUser('huge'), 'AUTH-014');
    assert.match(e.message, /over 100000 bytes/);
    assert.ok(Date.now() - t0 < 5000);
    await rejects(auth0().getUser('huge'), 'AUTH-014');
  });

  it('malformed body: AUTH-014 with a clear message', async () => {
    assert.match((await rejects(auth0().getUser('bad'), 'AUTH-014')).message, /malformed user answer/);
  });

  it('bad options: AUTH-015 naming the option (https required except localhost), never the secret', () => {
    const bad = [
      [{ provider: 'okta' }, /provider/],
      [{ baseUrl: 'http://idp.example' }, /https/],
      [{ baseUrl: 'https://user:pw@idp.example' }, /user information/],
      [{ provider: 'keycloak', baseUrl: 'https://sso.example/realms/acme' }, /admin\/realms/],
      [{ clientSecret: '' }, /clientSecret/],
      [{ timeoutMs: -1 }, /timeoutMs/],
      [{ maxCacheEntries: 1.5 }, /maxCacheEntries/],
    ];
    for (const [o, re] of bad) {
      try {
        auth0(o);
        assert.fail(`accepted ${JSON.stringify(o)}`);
      } catch (e) {
        assert.equal(e.code, 'AUTH-015', e.message);
        assert.match(e.message, re);
        assert.ok(!e.message.includes(SECRET));
      }
    }
    assert.equal(eg.createAdminClient({ baseUrl: 'https://acme.eu.auth0.com', clientId: 'x', clientSecret: 'y' }).provider, 'auth0');
  });

  it('createAdminClientFromEnv: AUTH_API_* with auth0 by default; a missing variable is named', async () => {
    const env = { AUTH_API_BASEURL: base, AUTH_API_CLIENT_ID: CLIENT_ID, AUTH_API_CLIENT_SECRET: SECRET };
    const c = eg.createAdminClientFromEnv(env);
    assert.equal(c.provider, 'auth0');
    assert.equal((await c.getUser('auth0|1')).name, 'Ann Lee');
    const k = eg.createAdminClientFromEnv({ ...env, AUTH_API_PROVIDER: 'keycloak', AUTH_API_BASEURL: `${base}/kc/admin/realms/acme` });
    assert.equal((await k.getUser('kc-disabled')).username, 'dan');
    for (const name of ['AUTH_API_BASEURL', 'AUTH_API_CLIENT_ID', 'AUTH_API_CLIENT_SECRET']) {
      const e = { ...env };
      delete e[name];
      assert.throws(() => eg.createAdminClientFromEnv(e), (x) => x.code === 'AUTH-015' && x.message.startsWith(`${name} is not set`) && x.reason === `env.${name}` && !x.message.includes(SECRET));
    }
    assert.throws(() => eg.createAdminClientFromEnv({ ...env, AUTH_API_PROVIDER: 'okta' }), (x) => x.code === 'AUTH-015' && /^AUTH_API_PROVIDER: /.test(x.message));
    assert.throws(() => eg.createAdminClientFromEnv({ ...env, AUTH_API_BASEURL: 'http://idp.example' }), (x) => x.code === 'AUTH-015' && /^AUTH_API_BASEURL: .*https/.test(x.message));
    // The CommonJS entry has the same functions.
    const cjs = requireEdgegate();
    assert.equal(typeof cjs.createAdminClient, 'function');
    assert.equal(typeof cjs.createAdminClientFromEnv, 'function');
  });
});


describe('edgegate users get', () => {
  const env = () => ({ AUTH_API_BASEURL: base, AUTH_API_CLIENT_ID: CLIENT_ID, AUTH_API_CLIENT_SECRET: SECRET });

  it('prints the profile (json and text), exit 0', async () => {
    const r = await run(['users', 'get', 'auth0|1', '--format', 'json'], env());
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { found: true, user: { id: 'auth0|1', email: 'ann@example.com', emailVerified: true, name: 'Ann Lee', username: 'ann', picture: 'https://cdn.example/ann.png', enabled: true, provider: 'auth0' } });
    const t = await run(['users', 'get', 'f3b1c2d4-0000-4000-8000-000000000001'], { ...env(), AUTH_API_PROVIDER: 'keycloak', AUTH_API_BASEURL: `${base}/kc/admin/realms/acme` });
    assert.equal(t.code, 0, t.stderr);
    assert.match(t.stdout, /carol@example\.com \(verified\)/);
    assert.match(t.stdout, /name: Carol King {2}username: carol/);
    assert.match(t.stderr, /Keycloak Admin API/);
  });

  it('not found / disabled: exit 1; missing environment or refused credentials: exit 2; the secret never printed', async () => {
    const nf = await run(['users', 'get', 'auth0|nobody', '--format=json'], env());
    assert.equal(nf.code, 1);
    assert.equal(JSON.parse(nf.stdout).code, 'AUTH-017');
    const dis = await run(['users', 'get', 'auth0|blocked', '--require-enabled'], env());
    assert.equal(dis.code, 1);
    assert.match(dis.stderr, /AUTH-018 user disabled/);
    const { AUTH_API_CLIENT_SECRET: _s, ...noSecret } = env();
    const miss = await run(['users', 'get', 'auth0|1'], noSecret);
    assert.equal(miss.code, 2);
    assert.match(miss.stderr, /AUTH-015 AUTH_API_CLIENT_SECRET is not set/);
    const wrong = await run(['users', 'get', 'auth0|1', '--format', 'json'], { ...env(), AUTH_API_CLIENT_SECRET: `${SECRET}x` });
    assert.equal(wrong.code, 2);
    assert.equal(JSON.parse(wrong.stdout).code, 'AUTH-014');
    for (const r of [nf, dis, miss, wrong]) assert.ok(!(r.stdout + r.stderr).includes(SECRET));
    const usage = await run(['users', 'get'], env());
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /usage: edgegate users get USER_ID/);
  });

  it('--help documents the command with an example', async () => {
    const r = await run(['--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /users get USER_ID/);
    assert.match(r.stdout, /AUTH_API_PROVIDER/);
    assert.match(r.stdout, /e\.g\. AUTH_API_BASEURL=https:\/\/acme\.eu\.auth0\.com .*\n\s+edgegate users get/);
  });
});
