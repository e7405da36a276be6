// createRemoteJWKSet against hostile and flaky JWKS servers (node:http on 127.0.0.1), and
// against a real OpenID provider (oidc-provider) issuing JWT access tokens.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import * as jose from 'jose';
import { importEdgegate } from './helpers/scratch.mjs';

const eg = await importEdgegate();

async function keyPair(alg, kid) {
  const { publicKey, privateKey } = await jose.generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, jwk: { ...(await jose.exportJWK(publicKey)), kid, alg, use: 'sig' }, privateJwk: { ...(await jose.exportJWK(privateKey)), kid, alg, use: 'sig' } };
}

function sign(k, claims = {}) {
  return new jose.SignJWT({ sub: 'u', ...claims }).setProtectedHeader({ alg: k.alg, kid: k.kid }).setIssuedAt().setExpirationTime('10m').sign(k.privateKey);
}

/** A JWKS server whose behaviour each test sets. Counts requests. */
async function jwksServer() {
  const s = {
    hits: 0,
    headers: [],
    behave: (req, res) => res.end('{}'),
  };
  s.server = createServer((req, res) => {
    s.hits++;
    s.headers.push(req.headers);
    s.behave(req, res);
  });
  s.server.listen(0, '127.0.0.1');
  await once(s.server, 'listening');
  s.url = `http://127.0.0.1:${s.server.address().port}/jwks`;
  s.serve = (keys, extra = {}) => {
    s.behave = (req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', ...extra });
      res.end(JSON.stringify({ keys: keys.map((k) => k.jwk) }));
    };
  };
  s.close = () => {
    s.server.closeAllConnections();
    s.server.close();
  };
  return s;
}

async function code(promise) {
  try {
    await promise;
    return 'ok';
  } catch (e) {
    assert.ok(eg.isAuthError(e), String(e && e.stack));
    return e.code;
  }
}

describe('createRemoteJWKSet', () => {
  let srv;
  let A;
  let B;
  let Z;
  before(async () => {
    srv = await jwksServer();
    A = await keyPair('RS256', 'key-a');
    B = await keyPair('ES256', 'key-b');
    Z = await keyPair('ES256', 'key-unknown');
  });
  after(() => srv.close());

  it('fetches once, caches, sends headers and no redirects', async () => {
    srv.serve([A]);
    const start = srv.hits;
    const seen = [];
    const JWKS = eg.createRemoteJWKSet(srv.url, {
      headers: { 'x-test': 'yes' },
      fetch: (url, init) => {
        seen.push(init.redirect);
        return fetch(url, init);
      },
    });
    for (let i = 0; i < 20; i++) assert.equal(await code(eg.jwtVerify(await sign(A, { i }), JWKS)), 'ok');
    assert.equal(srv.hits - start, 1);
    assert.equal(srv.headers.at(-1)['x-test'], 'yes');
    assert.deepEqual(seen, ['manual']);
    assert.equal(JWKS.fresh, true);
    assert.deepEqual(JWKS.jwks().keys.map((k) => k.kid), ['key-a']);
  });

  it('one fetch in flight for concurrent cold requests', async () => {
    srv.behave = (req, res) => setTimeout(() => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: [A.jwk] }));
    }, 100);
    const start = srv.hits;
    const JWKS = eg.createRemoteJWKSet(srv.url);
    const tokens = await Promise.all(Array.from({ length: 50 }, (_, i) => sign(A, { i })));
    const results = await Promise.all(tokens.map((t) => code(eg.jwtVerify(t, JWKS))));
    assert.deepEqual(new Set(results), new Set(['ok']));
    assert.equal(srv.hits - start, 1);
    // Two key sets for the same URL share the fetch in flight.
    const s2 = srv.hits;
    const [J1, J2] = [eg.createRemoteJWKSet(srv.url), eg.createRemoteJWKSet(srv.url)];
    const both = await Promise.all(tokens.slice(0, 20).map((t, i) => code(eg.jwtVerify(t, i % 2 ? J1 : J2))));
    assert.deepEqual(new Set(both), new Set(['ok']));
    assert.equal(srv.hits - s2, 1);
  });

  it('key rotation: a new kid after the cooldown triggers one refetch', async () => {
    srv.serve([A]);
    const JWKS = eg.createRemoteJWKSet(srv.url, { cooldownDuration: 150 });
    const start = srv.hits;
    assert.equal(await code(eg.jwtVerify(await sign(A), JWKS)), 'ok');
    srv.serve([B]);
    await sleep(200);
    assert.equal(await code(eg.jwtVerify(await sign(B), JWKS)), 'ok');
    assert.equal(srv.hits - start, 2);
    // The old key is gone now.
    assert.equal(await code(eg.jwtVerify(await sign(A), JWKS)), 'AUTH-001');
  });

  it('an unknown-kid storm costs at most one fetch', async () => {
    srv.serve([A]);
    const JWKS = eg.createRemoteJWKSet(srv.url, { cooldownDuration: 1000 });
    assert.equal(await code(eg.jwtVerify(await sign(A), JWKS)), 'ok');
    const bogus = await Promise.all(Array.from({ length: 300 }, (_, i) => sign({ ...Z, kid: `made-up-${i}` })));
    // Within the cooldown of the first fetch: no refetch at all.
    for (const t of bogus.slice(0, 50)) assert.equal(await code(eg.jwtVerify(t, JWKS)), 'AUTH-001');
    await sleep(1050);
    const start = srv.hits;
    const results = await Promise.all(bogus.map((t) => code(eg.jwtVerify(t, JWKS))));
    assert.deepEqual(new Set(results), new Set(['AUTH-001']));
    for (const t of bogus.slice(0, 100)) assert.equal(await code(eg.jwtVerify(t, JWKS)), 'AUTH-001');
    assert.equal(srv.hits - start, 1);
  });

  it('the refetch budget bounds unknown-kid refetches across cooldowns', async () => {
    srv.serve([A]);
    const JWKS = eg.createRemoteJWKSet(srv.url, { cooldownDuration: 50, refetchBudget: 2 });
    assert.equal(await code(eg.jwtVerify(await sign(A), JWKS)), 'ok');
    const bogus = await sign({ ...Z, kid: 'made-up' });
    const start = srv.hits;
    for (let i = 0; i < 6; i++) {
      await sleep(60);
      assert.equal(await code(eg.jwtVerify(bogus, JWKS)), 'AUTH-001');
    }
    assert.equal(srv.hits - start, 2);
  });

  it('IdP down: stale keys until maxStale, then AUTH-007; recovers', async () => {
    srv.serve([A]);
    const JWKS = eg.createRemoteJWKSet(srv.url, { cacheMaxAge: 100, cooldownDuration: 100, maxStale: 400, retryAfterError: 50 });
    assert.equal(await code(eg.jwtVerify(await sign(A), JWKS)), 'ok');
    srv.behave = (req, res) => {
      res.writeHead(500);
      res.end('down');
    };
    await sleep(150);
    const start = srv.hits;
    assert.equal(await code(eg.jwtVerify(await sign(A), JWKS)), 'ok', 'stale keys served');
    assert.equal(await code(eg.jwtVerify(await sign(A), JWKS)), 'ok', 'no new attempt right after a failure');
    assert.equal(srv.hits - start, 1);
    await sleep(450);
    const e = await eg.jwtVerify(await sign(A), JWKS).catch((x) => x);
    assert.ok(e instanceof eg.JwksFetchError, String(e));
    assert.equal(e.code, 'AUTH-007');
    assert.equal(e.status, 503);
    srv.serve([A]);
    await sleep(60);
    assert.equal(await code(eg.jwtVerify(await sign(A), JWKS)), 'ok', 'recovered');
  });

  it('slow responses time out (AUTH-007)', async () => {
    srv.behave = (req, res) => setTimeout(() => res.end(JSON.stringify({ keys: [A.jwk] })), 3000).unref();
    const t0 = Date.now();
    assert.equal(await code(eg.jwtVerify(await sign(A), eg.createRemoteJWKSet(srv.url, { timeoutDuration: 200 }))), 'AUTH-007');
    assert.ok(Date.now() - t0 < 1500, `took ${Date.now() - t0} ms`);
    // Headers fast, body stalls.
    srv.behave = (req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"keys":[');
    };
    const t1 = Date.now();
    assert.equal(await code(eg.jwtVerify(await sign(A), eg.createRemoteJWKSet(srv.url, { timeoutDuration: 200 }))), 'AUTH-007');
    assert.ok(Date.now() - t1 < 1500);
  });

  it('oversized, non-200, redirected and malformed JWKS are AUTH-007', async () => {
    const big = JSON.stringify({ keys: [A.jwk], pad: 'x'.repeat(600 * 1024) });
    const cases = {
      'oversized with content-length': (req, res) => {
        res.writeHead(200, { 'content-length': Buffer.byteLength(big) });
        res.end(big);
      },
      'oversized chunked': (req, res) => {
        res.writeHead(200);
        for (let i = 0; i < 20; i++) res.write('x'.repeat(64 * 1024));
        res.end();
      },
      'not found': (req, res) => {
        res.writeHead(404);
        res.end();
      },
      redirect: (req, res) => {
        res.writeHead(302, { location: `${srv.url}?elsewhere` });
        res.end();
      },
      'not JSON': (req, res) => res.end('<html>'),
      'HMAC key in a remote set': (req, res) => res.end(JSON.stringify({ keys: [{ kty: 'oct', k: 'c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0cw', kid: 'key-a' }] })),
      'private key in the set': (req, res) => res.end(JSON.stringify({ keys: [A.privateJwk] })),
    };
    const token = await sign(A);
    for (const [name, behave] of Object.entries(cases)) {
      srv.behave = behave;
      assert.equal(await code(eg.jwtVerify(token, eg.createRemoteJWKSet(srv.url))), 'AUTH-007', name);
    }
  });

  it('honours Cache-Control: max-age', async () => {
    srv.serve([A], { 'cache-control': 'public, max-age=1' });
    const JWKS = eg.createRemoteJWKSet(srv.url, { cooldownDuration: 100 });
    const start = srv.hits;
    await eg.jwtVerify(await sign(A), JWKS);
    await eg.jwtVerify(await sign(A), JWKS);
    assert.equal(srv.hits - start, 1);
    await sleep(1100);
    await eg.jwtVerify(await sign(A), JWKS);
    assert.equal(srv.hits - start, 2);
    // Without the header, cacheMaxAge (10 min) applies.
    srv.serve([A]);
    const J2 = eg.createRemoteJWKSet(srv.url);
    const s2 = srv.hits;
    await eg.jwtVerify(await sign(A), J2);
    await sleep(1100);
    await eg.jwtVerify(await sign(A), J2);
    assert.equal(srv.hits - s2, 1);
  });

  it('persist / seed: a second isolate starts from the saved snapshot without fetching', async () => {
    srv.serve([A]);
    const kv = new Map();
    const persist = {
      load: async () => kv.get('jwks'),
      save: async (s) => void kv.set('jwks', JSON.parse(JSON.stringify(s))),
    };
    await eg.jwtVerify(await sign(A), eg.createRemoteJWKSet(srv.url, { persist }));
    const snap = kv.get('jwks');
    assert.ok(snap && snap.fetchedAt > 0 && snap.freshUntil > snap.fetchedAt && snap.jwks.keys[0].kid === 'key-a');
    srv.behave = (req, res) => {
      res.writeHead(500);
      res.end();
    };
    const start = srv.hits;
    assert.equal(await code(eg.jwtVerify(await sign(A), eg.createRemoteJWKSet(srv.url, { persist }))), 'ok');
    assert.equal(srv.hits - start, 0);
    // A forged snapshot holding an HMAC key is refused (and the fetch fails): AUTH-007.
    kv.set('jwks', { ...snap, jwks: { keys: [{ kty: 'oct', k: 'AAAA', kid: 'x' }] } });
    assert.equal(await code(eg.jwtVerify(await sign(A), eg.createRemoteJWKSet(srv.url, { persist }))), 'AUTH-007');
  });

  it('bad options are configuration errors', () => {
    assert.throws(() => eg.createRemoteJWKSet('not a url'), (e) => e.code === 'AUTH-015');
    assert.throws(() => eg.createRemoteJWKSet('file:///etc/passwd'), (e) => e.code === 'AUTH-015');
    assert.throws(() => eg.createRemoteJWKSet(srv.url, { cacheMaxAge: -1 }), (e) => e.code === 'AUTH-015');
  });
});

describe('a real OpenID provider (oidc-provider)', () => {
  let server;
  let issuer;
  let signing;
  before(async () => {
    const { default: Provider } = await import('oidc-provider');
    signing = await keyPair('RS256', 'op-key-1');
    server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    issuer = `http://127.0.0.1:${server.address().port}`;
    const provider = new Provider(issuer, {
      clients: [{ client_id: 'svc', client_secret: 'a-long-enough-client-secret-for-tests', grant_types: ['client_credentials'], redirect_uris: [], response_types: [] }],
      jwks: { keys: [signing.privateJwk] },
      features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => 'urn:edgegate:api',
          useGrantedResource: () => true,
          getResourceServerInfo: () => ({ scope: 'read write', audience: 'urn:edgegate:api', accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } }),
        },
      },
    });
    provider.on('server_error', () => {});
    server.on('request', provider.callback());
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  async function accessToken() {
    const res = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from('svc:a-long-enough-client-secret-for-tests').toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'read', resource: 'urn:edgegate:api' }),
    });
    const body = await res.json();
    assert.equal(res.status, 200, JSON.stringify(body));
    return body.access_token;
  }

  it('verifies a JWT access token against the discovered jwks_uri', async () => {
    const disco = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
    assert.equal(disco.issuer, issuer);
    const JWKS = eg.createRemoteJWKSet(new URL(disco.jwks_uri));
    const token = await accessToken();
    const { payload, protectedHeader } = await eg.jwtVerify(token, JWKS, { issuer, audience: 'urn:edgegate:api', typ: 'at+jwt', algorithms: ['RS256'] });
    assert.equal(protectedHeader.kid, 'op-key-1');
    assert.equal(payload.client_id, 'svc');
    assert.equal(payload.scope, 'read');
    // jose agrees.
    const j = await jose.jwtVerify(token, jose.createRemoteJWKSet(new URL(disco.jwks_uri)), { issuer, audience: 'urn:edgegate:api', typ: 'at+jwt' });
    assert.deepEqual(payload, j.payload);
    // Wrong audience / issuer fail with AUTH-001; a tampered token with AUTH-004.
    assert.equal(await code(eg.jwtVerify(token, JWKS, { audience: 'other' })), 'AUTH-001');
    assert.equal(await code(eg.jwtVerify(token, JWKS, { issuer: 'https://evil.example' })), 'AUTH-001');
    const [h, p, s] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ ...payload, scope: 'read write admin' })).toString('base64url');
    assert.equal(await code(eg.jwtVerify(`${h}.${forged}.${s}`, JWKS)), 'AUTH-004');
  });
});
