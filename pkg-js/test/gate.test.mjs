// The Gate JS API from the installed tarball: config errors, decisions, identity headers,
// API keys through a store, revocation, a custom verifier.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as jose from 'jose';
import { importEdgegate, requireEdgegate } from './helpers/scratch.mjs';

const eg = await importEdgegate();
const SECRET = 'gate-js-test-secret-of-32-bytes-or-more';
const env = { JWT_SECRET: SECRET };

const config = {
  providers: [{ type: 'jwt', name: 'main', issuer: 'https://issuer.example', audience: 'api', secret: { env: 'JWT_SECRET' }, orgClaim: 'org_id' }, { type: 'custom', name: 'sessions' }],
  apiKeys: { enabled: true },
  revocation: { enabled: true },
  rbac: { roles: { admin: { inherits: ['viewer'] }, viewer: { permissions: ['*:read'] } } },
  routes: [
    { path: '/health', methods: ['GET'], public: true },
    { path: '/admin/**', roles: ['admin'] },
    { path: '/orgs/:org/**', claims: [{ claim: 'org_id', equalsParam: 'org' }] },
    { path: '/machine/**', providers: ['apiKey'], permissions: ['deploy:run'] },
    { path: '/api/**' },
  ],
};

function token(claims = {}, jti = undefined) {
  const t = new jose.SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuer('https://issuer.example').setAudience('api').setSubject('u1').setExpirationTime('5m');
  if (jti) t.setJti(jti);
  return t.sign(new TextEncoder().encode(SECRET));
}

const store = (records = new Map(), revoked = new Set()) => ({
  apiKey: (id) => records.get(id) ?? null,
  isRevoked: async (id) => revoked.has(id),
});

describe('Gate', () => {
  it('exports from ESM and CJS', () => {
    // The Node ESM and CJS entries are separate module instances (the ESM entry loads the
    // wasm itself for a faster cold import), so compare behaviour, not identity.
    assert.equal(typeof eg.Gate.create, 'function');
    assert.equal(typeof requireEdgegate().Gate.create, 'function');
    assert.equal(requireEdgegate().Gate.name, eg.Gate.name);
  });

  it('refuses a bad config with AUTH-015 naming the field', () => {
    assert.throws(
      () => eg.Gate.create({ routes: [{ path: '/x', roles: 'admin' }] }),
      (e) => e instanceof eg.ConfigError && e.code === 'AUTH-015' && e.status === 500 && /routes\[0\]\.roles: expected array of strings/.test(e.message) && e.reason === 'routes[0].roles',
    );
    assert.throws(() => eg.Gate.create(config, { env: {} }), /JWT_SECRET is not set/);
  });

  it('decides with identity headers and strips forged ones', async () => {
    const gate = eg.Gate.create(config, { env, store: store(), customVerify: () => null });
    assert.deepEqual(gate.warnings, []);
    const pub = await gate.decide({ method: 'GET', path: '/health' });
    assert.equal(pub.allow, true);
    assert.equal(pub.reason, 'public');
    const none = await gate.decide({ method: 'GET', path: '/api/x' });
    assert.deepEqual([none.allow, none.status, none.code, none.wwwAuthenticate], [false, 401, 'AUTH-005', 'Bearer realm="edgegate"']);
    assert.equal(JSON.parse(none.body).code, 'AUTH-005');
    const t = await token({ roles: ['admin'], org_id: 'acme' });
    const d = await gate.decide({ method: 'GET', path: '/admin/x', headers: { Authorization: `Bearer ${t}`, 'X-User-Id': 'forged' } });
    assert.equal(d.allow, true, JSON.stringify(d));
    assert.equal(d.identity.sub, 'u1');
    assert.deepEqual(d.identity.roles, ['admin', 'viewer']);
    assert.equal(d.headers['X-User-Id'], 'u1');
    assert.equal(d.headers['X-User-Org'], 'acme');
    assert.ok(d.stripHeaders.includes('X-User-Id'));
    assert.equal(JSON.parse(Buffer.from(d.headers['X-Auth-Claims'], 'base64url').toString()).org_id, 'acme');
    const h = new Headers({ authorization: `Bearer ${t}` });
    assert.equal((await gate.decide({ method: 'GET', path: '/orgs/acme/x', headers: h })).allow, true);
    const other = await gate.decide({ method: 'GET', path: '/orgs/globex/x', headers: h });
    assert.deepEqual([other.allow, other.code], [false, 'AUTH-013']);
  });

  it('API keys through the store, and revocation', async () => {
    const now = Date.now();
    const created = eg.createApiKey({ account: 'acct_1', name: 'ci', permissions: ['deploy:run'], expiresAt: Math.floor(now / 1000) + 3600 });
    assert.match(created.key, /^egk_[0-9A-Za-z]{12}_[0-9A-Za-z]{38}$/);
    assert.equal(created.record.hash.length, 64);
    assert.ok(!JSON.stringify(created.record).includes(created.key));
    assert.throws(() => eg.createApiKey({ account: 'a', expiresAt: Math.floor(now / 1000) + 400 * 86400 }), (e) => e.code === 'AUTH-015');
    const records = new Map([[created.record.id, created.record]]);
    const revoked = new Set();
    const gate = eg.Gate.create(config, { env, store: store(records, revoked), customVerify: () => null });
    const req = { method: 'POST', path: '/machine/deploy', headers: { authorization: `Bearer ${created.key}` } };
    const ok = await gate.decide(req);
    assert.equal(ok.allow, true, JSON.stringify(ok));
    assert.equal(ok.identity.provider, 'apiKey');
    assert.equal(ok.identity.org, 'acct_1');
    records.set(created.record.id, { ...created.record, revoked: true });
    assert.equal((await gate.decide(req)).code, 'AUTH-003');
    records.delete(created.record.id);
    assert.equal((await gate.decide(req)).code, 'AUTH-003');
    const jwt = await token({}, 'jti-1');
    const r = { method: 'GET', path: '/api/x', headers: { authorization: `Bearer ${jwt}` } };
    assert.equal((await gate.decide(r)).allow, true);
    revoked.add('jti-1');
    assert.equal((await gate.decide(r)).code, 'AUTH-010');
    // revocation on without a store: refused at start-up (fail closed)
    assert.throws(() => eg.Gate.create(config, { env, customVerify: () => null }), (e) => e.code === 'AUTH-015' && e.reason === 'options.store.isRevoked');
  });

  it('a custom provider calls the host function', async () => {
    const seen = [];
    const gate = eg.Gate.create(config, {
      env,
      store: store(),
      customVerify: (provider, tok) => {
        seen.push([provider, tok]);
        return tok === 'good-session' ? { sub: 's-1', roles: ['admin'] } : null;
      },
    });
    const ok = await gate.decide({ method: 'GET', path: '/admin/x', headers: { authorization: 'Bearer good-session' } });
    assert.equal(ok.allow, true, JSON.stringify(ok));
    assert.equal(ok.identity.provider, 'sessions');
    const bad = await gate.decide({ method: 'GET', path: '/admin/x', headers: { authorization: 'Bearer bad-session' } });
    assert.equal(bad.code, 'AUTH-001');
    assert.deepEqual(seen, [['sessions', 'good-session'], ['sessions', 'bad-session']]);
  });
});

describe('Gate with a remote JWKS (the core cache policy decides refetches)', () => {
  it('picks up a rotated key, and an unknown-kid storm costs a bounded number of fetches', async () => {
    const { createServer } = await import('node:http');
    const k1 = await jose.generateKeyPair('ES256', { extractable: true });
    const k2 = await jose.generateKeyPair('ES256', { extractable: true });
    const pub = async (k, kid) => ({ ...(await jose.exportJWK(k.publicKey)), kid, alg: 'ES256', use: 'sig' });
    let jwks = { keys: [await pub(k1, 'k1')] };
    let hits = 0;
    const server = createServer((req, res) => {
      hits++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(jwks));
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    try {
      const gate = eg.Gate.create(
        {
          providers: [{ type: 'oidc', name: 'idp', issuer: 'https://idp.example', audience: 'api', jwksUrl: `http://127.0.0.1:${server.address().port}/jwks` }],
          routes: [{ path: '/api/**' }],
        },
        // No cooldown: only the policy's refetch budget (3 per cache window) limits refetches.
        { env: {}, cooldownDuration: 0 },
      );
      const sign = (k, kid) =>
        new jose.SignJWT({}).setProtectedHeader({ alg: 'ES256', kid }).setIssuer('https://idp.example').setAudience('api').setSubject('svc').setExpirationTime('5m').sign(k.privateKey);
      const req = async (t) => gate.decide({ method: 'GET', path: '/api/x', headers: { authorization: `Bearer ${t}` } });

      assert.equal((await req(await sign(k1, 'k1'))).allow, true);
      assert.equal(hits, 1);
      // Rotation: the IdP publishes k2; a token with the new kid triggers one refetch.
      jwks = { keys: [await pub(k1, 'k1'), await pub(k2, 'k2')] };
      assert.equal((await req(await sign(k2, 'k2'))).allow, true);
      assert.equal(hits, 2);
      // A storm of tokens naming a kid the IdP never published: denied, few fetches.
      const bogus = await sign(k2, 'not-published');
      for (let i = 0; i < 50; i++) {
        const d = await req(bogus);
        assert.equal(d.allow, false);
        assert.equal(d.code, 'AUTH-001');
      }
      assert.ok(hits <= 1 + 3, `${hits - 1} unknown-kid refetches; the budget is 3`);
      // Known keys keep working from the cache.
      assert.equal((await req(await sign(k1, 'k1'))).allow, true);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
