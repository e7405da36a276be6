// Issue 7, finding 3 (store answers and key records of the wrong type fail closed; a
// numeric jti is checked) and finding 11 (the Gate follows the JWKS cache policy: past
// maxStale, AUTH-007).
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { describe, it } from 'node:test';
import * as jose from 'jose';
import { importEdgegate } from './helpers/scratch.mjs';

const eg = await importEdgegate();
const SECRET = 'sec-store-test-secret-of-32-bytes-or-more';
const env = { JWT_SECRET: SECRET };
const config = {
  providers: [{ type: 'jwt', name: 'main', issuer: 'https://issuer.example', audience: 'api', secret: { env: 'JWT_SECRET' } }],
  apiKeys: { enabled: true },
  revocation: { enabled: true },
  routes: [{ path: '/api/**', providers: ['main', 'apiKey'] }],
};

const token = (claims) =>
  new jose.SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuer('https://issuer.example').setAudience('api').setSubject('u1').setExpirationTime('5m').sign(new TextEncoder().encode(SECRET));
const req = (cred) => ({ method: 'GET', path: '/api/x', headers: { authorization: `Bearer ${cred}` } });

describe('store answers (issue 7 finding 3)', () => {
  it('only false or 0 mean "not revoked"; anything ambiguous is denied', async () => {
    const t = await token({ jti: 'jti-1' });
    const decideWith = (answer) => eg.Gate.create(config, { env, store: { isRevoked: async () => answer } }).decide(req(t));
    for (const ok of [false, 0]) assert.equal((await decideWith(ok)).allow, true, `${JSON.stringify(ok)}`);
    for (const yes of [true, 1]) {
      const d = await decideWith(yes);
      assert.deepEqual([d.allow, d.code, d.status], [false, 'AUTH-010', 401], JSON.stringify(yes));
    }
    for (const bad of ['true', 'false', '1', '0', 2, -1, 0.5, null, undefined, {}, { revoked: false }, [], NaN]) {
      const d = await decideWith(bad);
      assert.equal(d.allow, false, `${JSON.stringify(bad)} let a revoked-or-unknown token through`);
      assert.deepEqual([d.code, d.status], ['AUTH-015', 500], JSON.stringify(bad));
      assert.match(d.detail, /revocation store returned a malformed answer/);
    }
  });

  it('a numeric jti is checked under its decimal form; other jti types are refused', async () => {
    const seen = [];
    const gate = eg.Gate.create(config, {
      env,
      store: {
        isRevoked: async (id) => {
          seen.push(id);
          return id === '42';
        },
      },
    });
    const d = await gate.decide(req(await token({ jti: 42 })));
    assert.deepEqual([d.allow, d.code], [false, 'AUTH-010']);
    assert.deepEqual(seen, ['42']);
    for (const jti of [1.5, true, { a: 1 }, ['x'], null]) {
      const d = await gate.decide(req(await token({ jti })));
      assert.deepEqual([d.allow, d.code], [false, 'AUTH-001'], JSON.stringify(jti));
    }
  });

  it('API key records are parsed strictly: a malformed record is a store error, never accepted', async () => {
    const c = eg.createApiKey({ account: 'acct', name: 'ci', roles: [], expiresAt: Math.floor(Date.now() / 1000) + 3600 });
    const decideWith = (record) =>
      eg.Gate.create(config, { env, store: { apiKey: async () => record, isRevoked: async () => false } }).decide(req(c.key));
    assert.equal((await decideWith(c.record)).allow, true);
    assert.equal((await decideWith({ ...c.record, revoked: true })).code, 'AUTH-003');
    assert.equal((await decideWith(null)).code, 'AUTH-003');
    const bad = [
      { revoked: 1 },
      { revoked: 'true' },
      { revoked: 'false' },
      { revoked: 0 },
      { revoked: null },
      { expiresAt: String(c.record.expiresAt) },
      { expiresAt: c.record.expiresAt + 0.5 },
      { roles: 'admin' },
      { permissions: [1] },
      { id: 7 },
    ];
    for (const edit of bad) {
      const d = await decideWith({ ...c.record, ...edit });
      assert.equal(d.allow, false, `${JSON.stringify(edit)} accepted`);
      assert.deepEqual([d.code, d.status], ['AUTH-015', 500], JSON.stringify(edit));
    }
    const { revoked: _, ...noRevoked } = c.record;
    assert.equal((await decideWith(noRevoked)).code, 'AUTH-015');
    assert.equal((await decideWith('a string')).code, 'AUTH-015');
  });
});

describe('stale keys past maxStale (issue 7 finding 11)', () => {
  it('the Gate serves stale keys within maxStale, then answers AUTH-007', async () => {
    const k = await jose.generateKeyPair('ES256', { extractable: true });
    const jwk = { ...(await jose.exportJWK(k.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    let failing = false;
    let hits = 0;
    const server = createServer((_req, res) => {
      hits++;
      if (failing) {
        res.writeHead(500);
        res.end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    try {
      const tStart = Date.now();
      let t = tStart;
      const gate = eg.Gate.create(
        {
          providers: [{ type: 'oidc', name: 'idp', issuer: 'https://idp.example', audience: 'api', jwksUrl: `http://127.0.0.1:${server.address().port}/jwks` }],
          routes: [{ path: '/api/**' }],
        },
        { env: {}, now: () => t },
      );
      const tok = await new jose.SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer('https://idp.example').setAudience('api').setSubject('svc').setExpirationTime('5d').sign(k.privateKey);
      const d0 = await gate.decide(req(tok));
      assert.equal(d0.allow, true, JSON.stringify(d0));
      assert.equal(hits, 1);
      failing = true;
      const MIN = 60_000;
      // Stale (past the 10 min freshness), IdP down: stale-if-error within maxStale (1 h).
      t += 11 * MIN;
      assert.equal((await gate.decide(req(tok))).allow, true);
      t += 30 * MIN;
      assert.equal((await gate.decide(req(tok))).allow, true);
      // Past freshness + maxStale (75 min, then 48 h): the keys are withdrawn.
      for (const at of [75 * MIN, 48 * 60 * MIN]) {
        t = tStart + at;
        const d = await gate.decide(req(tok));
        assert.deepEqual([d.allow, d.code, d.status], [false, 'AUTH-007', 503], `at +${at / MIN} min: ${JSON.stringify(d)}`);
      }
      assert.ok(hits >= 2, 'refreshes were attempted');
      // The IdP comes back: keys are fetched again and the token passes.
      failing = false;
      t += 10_000;
      assert.equal((await gate.decide(req(tok))).allow, true);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
