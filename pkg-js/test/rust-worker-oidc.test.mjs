// The Rust Worker (build/, scripts/build-worker.sh) in workerd (Miniflare 4, local KV and
// Durable Objects) in front of an origin on 127.0.0.1, with a real OpenID provider on
// 127.0.0.1 as the issuer (oidc-provider, pkg-js/test/helpers/oidc.mjs): JWT access tokens
// signed RS256 / ES256 by the provider's own keys, roles from its `extraTokenClaims`,
// genuinely expired tokens (1 s lifetime), key rotation at the provider, the provider down
// (cached keys until maxStale, then 503 AUTH-007), discovery, and opaque tokens through its
// RFC 7662 introspection endpoint (src/worker/introspect.rs; a failed call is 502 AUTH-014). A `custom` provider is refused
// at start-up. The jose-signed scenarios the provider cannot produce (EdDSA, forged headers,
// API keys, revocation, panics) stay in rust-worker.test.mjs.
//
// EDGEGATE_SKIP_WORKER=1 skips this file (e.g. on a machine without the Rust toolchain).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { Miniflare } from 'miniflare';
import { buildRustWorker, rustWorkerOptions } from '../../scripts/rust-worker-miniflare.mjs';
import { close, listen, tamperRoles } from './helpers/http.mjs';
import { AUDIENCE, INTROSPECTION_CLIENT, startOidcProvider } from './helpers/oidc.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const BUILD = path.join(ROOT, 'build');
const MIN = 60_000;
const skip = process.env.EDGEGATE_SKIP_WORKER === '1';

let origin;
let originUrl;
let op;
const seen = [];

before(async () => {
  if (skip) return;
  buildRustWorker();
  origin = http.createServer((req, res) => {
    seen.push({ url: req.url, headers: req.headers });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ url: req.url, headers: req.headers }));
  });
  originUrl = await listen(origin);
  op = await startOidcProvider();
});

after(async () => {
  await close(origin);
  await op?.stop();
});

const routes = [
  { name: 'public', path: '/public/**', public: true },
  { name: 'admin', path: '/admin/**', roles: ['admin'] },
  { name: 'api', path: '/api/**' },
];
/** The provider's `jwks_uri` given, and its introspection endpoint for opaque tokens. */
const config = () => ({
  providers: [
    {
      type: 'oauth2',
      name: 'op',
      issuer: op.issuer,
      audience: AUDIENCE,
      jwksUrl: op.discovery.jwks_uri,
      introspection: { url: op.discovery.introspection_endpoint, clientId: INTROSPECTION_CLIENT.id, clientSecret: { env: 'OP_INTROSPECTION_SECRET' } },
    },
  ],
  routes,
});
const secrets = () => ({ OP_INTROSPECTION_SECRET: INTROSPECTION_CLIENT.secret });

/** Starts the built Worker with local KV + DO; `fn(get, mf, logs)`; always disposes. */
async function withWorker(vars, fn) {
  const logs = [];
  const mf = new Miniflare(rustWorkerOptions({ bindings: { ORIGIN_URL: originUrl, ...vars }, logs }));
  try {
    const get = async (p, tok) => {
      const res = await mf.dispatchFetch(`https://edgegate.test${p}`, { redirect: 'manual', headers: tok ? { authorization: `Bearer ${tok}` } : {} });
      const text = await res.text();
      let json;
      try {
        json = JSON.parse(text);
      } catch {}
      return { status: res.status, headers: res.headers, text, json };
    };
    await fn(get, mf, logs);
  } finally {
    await mf.dispose();
  }
}

function denied(r, status, code, wwwAuth) {
  assert.equal(r.status, status, r.text);
  assert.equal(r.headers.get('content-type'), 'application/problem+json');
  assert.equal(r.json?.code, code, r.text);
  if (typeof wwwAuth === 'string') assert.equal(r.headers.get('www-authenticate'), wwwAuth);
  else if (wwwAuth) assert.match(r.headers.get('www-authenticate') ?? '', wwwAuth);
}

const tamper = tamperRoles;
const kidOf = (tok) => JSON.parse(Buffer.from(tok.split('.')[0], 'base64url')).kid;

/** The KV record an isolate writes after fetching the provider's JWKS (src/worker/jwks.rs). */
async function kvRecord(fetchedAt, freshUntil) {
  const jwks = await (await fetch(op.jwksUri)).text();
  return JSON.stringify({ url: op.jwksUri, fetchedAt, freshUntil, jwks });
}

const sleepPast = async (tok) => {
  const exp = JSON.parse(Buffer.from(tok.split('.')[1], 'base64url')).exp;
  await new Promise((r) => setTimeout(r, Math.max(0, exp * 1000 - Date.now()) + 1100));
};

test('Rust Worker in workerd with a real OpenID provider (oidc-provider)', { skip, timeout: 1_800_000 }, async (t) => {
  await t.test('tokens from the provider: user, admin, wrong role, tampered, expired; identity headers', async () => {
    await withWorker({ EDGEGATE_CONFIG: JSON.stringify(config()), ...secrets() }, async (get) => {
      assert.equal((await get('/public/a')).status, 200);
      denied(await get('/api/x'), 401, 'AUTH-005', 'Bearer realm="edgegate"');

      const jwksBefore = op.count('/jwks');
      const user = await op.token('alice');
      const r = await get('/api/x', user);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.headers['x-user-id'], 'alice');
      assert.equal(r.json.headers['x-user-roles'], 'user');
      assert.equal(r.json.headers['x-auth-provider'], 'op');
      assert.equal(op.count('/jwks'), jwksBefore + 1, 'the JWKS came from the provider');

      const admin = await op.token('root', { alg: 'ES256' });
      assert.equal(kidOf(admin).startsWith('es-'), true);
      const a = await get('/admin/x', admin);
      assert.equal(a.status, 200, a.text);
      assert.equal(a.json.headers['x-user-id'], 'root');
      denied(await get('/admin/x', user), 403, 'AUTH-012', /^Bearer realm="edgegate", error="insufficient_scope"/);
      denied(await get('/admin/x', await op.token('nobody', { alg: 'ES256' })), 403, 'AUTH-012', /error="insufficient_scope"/);

      const forged = await get('/admin/x', tamper(user));
      denied(forged, 401, 'AUTH-004', /^Bearer realm="edgegate", error="invalid_token"/);
      assert.ok(!forged.text.includes(user.split('.')[2]), 'no signature in the body');

      const short = await op.token('alice', { ttl: 1, alg: 'ES256' });
      assert.equal((await get('/api/x', short)).status, 200, 'valid before its exp');
      await sleepPast(short);
      denied(await get('/api/x', short), 401, 'AUTH-002', 'Bearer realm="edgegate", error="invalid_token", error_description="token expired"');
      assert.equal(op.count('/jwks'), jwksBefore + 1, 'one fetch for all of these');
    });
  });

  await t.test('opaque tokens: RFC 7662 introspection at the provider (POST, Basic client auth), cached; provider down: 502 AUTH-014', async () => {
    await withWorker({ EDGEGATE_CONFIG: JSON.stringify(config()), ...secrets() }, async (get) => {
      const calls = () => op.count('/token/introspection');
      const bob = await op.token('bob', { format: 'opaque' });
      assert.equal(bob.split('.').length, 1, 'opaque, not a JWT');
      const c0 = calls();
      const r = await get('/admin/x', bob);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.headers['x-user-id'], 'bob');
      assert.deepEqual(r.json.headers['x-user-roles'].split(',').sort(), ['admin', 'user']);
      assert.equal(calls(), c0 + 1);
      // Cached (cacheTtl, bounded by exp): no second call.
      assert.equal((await get('/api/y', bob)).status, 200);
      assert.equal(calls(), c0 + 1, 'the answer is cached');

      denied(await get('/admin/x', await op.token('alice', { format: 'opaque' })), 403, 'AUTH-012', /insufficient_scope/);
      // A token the provider never issued: {"active": false} -> 401.
      denied(await get('/api/x', 'an-opaque-token-the-provider-never-issued-0123456789'), 401, 'AUTH-001', /error="invalid_token"/);

      // An opaque token whose lifetime ran out: the provider answers inactive.
      const short = await op.token('bob', { format: 'opaque', ttl: 1 });
      await new Promise((r) => setTimeout(r, 2100));
      denied(await get('/api/x', short), 401, 'AUTH-001');

      // The provider down (or answering an error): fail closed, 502 AUTH-014 (provider error).
      const late = await op.token('bob', { format: 'opaque' });
      op.down = 'error';
      try {
        denied(await get('/api/x', late), 502, 'AUTH-014');
      } finally {
        op.down = false;
      }
      assert.equal((await get('/api/x', late)).status, 200, 'answers again once the provider is back');
    });
  });

  await t.test('introspection with a wrong client secret: the provider refuses the call, 502 AUTH-014', async () => {
    await withWorker({ EDGEGATE_CONFIG: JSON.stringify(config()), OP_INTROSPECTION_SECRET: 'not-the-secret-of-the-gateway-client' }, async (get, _mf, logs) => {
      denied(await get('/api/x', await op.token('bob', { format: 'opaque' })), 502, 'AUTH-014');
      assert.ok(!logs.join('\n').includes('not-the-secret'), 'the secret is never logged');
    });
  });

  await t.test('discovery: issuer -> <issuer>/.well-known/openid-configuration -> jwks_uri', async () => {
    const cfg = { providers: [{ type: 'oauth2', name: 'op', issuer: op.issuer, audience: AUDIENCE }], routes };
    await withWorker({ EDGEGATE_CONFIG: JSON.stringify(cfg) }, async (get) => {
      const d0 = op.count('/.well-known/openid-configuration');
      const r = await get('/api/x', await op.token('alice'));
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.headers['x-user-id'], 'alice');
      assert.equal(op.count('/.well-known/openid-configuration'), d0 + 1);
    });
  });

  await t.test('key rotation at the provider is picked up: unknown kid -> one refetch; a dropped key is refused', async () => {
    await withWorker({ EDGEGATE_CONFIG: JSON.stringify(config()), ...secrets() }, async (get, mf) => {
      // An isolate fetched the provider's keys a minute ago (past the 30 s unknown-kid cooldown).
      const kv = await mf.getKVNamespace('EDGEGATE_KV');
      await kv.put('jwks:op', await kvRecord(Date.now() - MIN, Date.now() + 9 * MIN));
      const old = await op.token('alice');
      const j0 = op.count('/jwks');
      assert.equal((await get('/api/x', old)).status, 200);
      assert.equal(op.count('/jwks'), j0, 'served from KV');

      await op.rotate(); // new keys, the old ones no longer published
      const fresh = await op.token('alice');
      assert.notEqual(kidOf(fresh), kidOf(old));
      const r = await get('/api/x', fresh);
      assert.equal(r.status, 200, r.text);
      assert.equal(op.count('/jwks'), j0 + 1, 'one refetch for the new kid');
      const rec = JSON.parse(await kv.get('jwks:op'));
      assert.ok(JSON.parse(rec.jwks).keys.some((k) => k.kid === kidOf(fresh)), 'the rotated set is written to KV');

      const gone = await get('/api/x', old);
      assert.equal(gone.status, 401, gone.text);
      assert.match(gone.headers.get('www-authenticate'), /error="invalid_token"/);
      assert.equal(op.count('/jwks'), j0 + 1, 'no second refetch within the cooldown');
    });
  });

  await t.test('provider down: cached keys keep working (fresh, then stale within maxStale); past maxStale 503 AUTH-007', async () => {
    const tok = await op.token('alice');
    const tok2 = await op.token('root');
    // Fresh keys in the isolate: the provider going down changes nothing.
    await withWorker({ EDGEGATE_CONFIG: JSON.stringify(config()), ...secrets() }, async (get) => {
      assert.equal((await get('/api/x', tok)).status, 200);
      op.down = 'error';
      try {
        const r = await get('/admin/x', tok2);
        assert.equal(r.status, 200, r.text);
      } finally {
        op.down = false;
      }
    });
    // Stale keys (fresh until 10 minutes ago) in KV: served while the provider is down.
    await withWorker({ EDGEGATE_CONFIG: JSON.stringify(config()), ...secrets() }, async (get, mf) => {
      const kv = await mf.getKVNamespace('EDGEGATE_KV');
      await kv.put('jwks:op', await kvRecord(Date.now() - 20 * MIN, Date.now() - 10 * MIN));
      op.down = 'error';
      const j0 = op.count('/jwks');
      try {
        const r = await get('/api/x', tok);
        assert.equal(r.status, 200, r.text);
        assert.ok(op.count('/jwks') > j0, 'a refresh was tried');
      } finally {
        op.down = false;
      }
    });
    // Fresh until 70 minutes ago: past freshness + maxStale (1 h), withdrawn: 503 AUTH-007.
    await withWorker({ EDGEGATE_CONFIG: JSON.stringify(config()), ...secrets() }, async (get, mf) => {
      const kv = await mf.getKVNamespace('EDGEGATE_KV');
      await kv.put('jwks:op', await kvRecord(Date.now() - 80 * MIN, Date.now() - 70 * MIN));
      op.down = 'error';
      const before = seen.length;
      try {
        denied(await get('/api/x', tok), 503, 'AUTH-007');
        assert.equal(seen.length, before, 'the origin is not reached');
      } finally {
        op.down = false;
      }
    });
  });

  await t.test('a custom provider cannot exist in the Rust Worker: 500 AUTH-015 at start-up, the log names it', async () => {
    const cfg = config();
    cfg.providers.push({ type: 'custom', name: 'ext-verifier', issuer: 'https://ext.example' });
    await withWorker({ EDGEGATE_CONFIG: JSON.stringify(cfg), ...secrets() }, async (get, _mf, logs) => {
      // Every request, even a public route and the health endpoint: the config is refused.
      denied(await get('/public/x'), 500, 'AUTH-015');
      denied(await get('/.well-known/edgegate/health'), 500, 'AUTH-015');
      denied(await get('/api/x', await op.token('alice')), 500, 'AUTH-015');
      for (let i = 0; i < 100 && !logs.some((l) => l.includes('rejected')); i++) await new Promise((r) => setTimeout(r, 20));
      const line = logs.find((l) => l.includes('rejected')) ?? '';
      assert.match(line, /at providers\[1\]/, logs.join('\n'));
      assert.match(line, /"ext-verifier"/);
      assert.match(line, /custom/);
      assert.ok(!logs.join('\n').includes(INTROSPECTION_CLIENT.secret));
    });
  });
});
