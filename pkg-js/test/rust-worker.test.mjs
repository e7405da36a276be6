// The Rust Worker (src/worker/, built by scripts/build-worker.sh with worker-build into
// build/) in workerd (Miniflare 4) with local KV and Durable Objects, in front of a real
// origin (node:http on 127.0.0.1 echoing the headers it got) and a JWKS issuer on
// 127.0.0.1 (RS256 keys; tokens signed with jose). The core token scenarios against a real
// OpenID provider (its own keys, expiry, rotation, outage, discovery, introspection) are in
// rust-worker-oidc.test.mjs; this file keeps what a provider cannot produce (EdDSA, tampered
// signatures per algorithm, forged headers, API keys, revocation, KV seeding, panics).
//
// The build runs once (skipped when build/ is newer than the sources); EDGEGATE_SKIP_WORKER=1
// skips this file (e.g. on a machine without the Rust toolchain).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import * as jose from 'jose';
import { Miniflare } from 'miniflare';
import { buildRustWorker, rustWorkerOptions } from '../../scripts/rust-worker-miniflare.mjs';
import { listen } from './helpers/http.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const BUILD = path.join(ROOT, 'build');
const ISSUER = 'https://idp.example';
const AUDIENCE = 'api';
const skip = process.env.EDGEGATE_SKIP_WORKER === '1';

let origin;
let originUrl;
let idp;
let idpUrl;
let jwksHits = 0;
let jwksDown = false;
let jwksHang = false;
let key; // the IdP's RS256 signing key
let publicJwk;
let ecKey; // ES256
let edKey; // EdDSA (Ed25519)
let jwks;
const seen = [];


before(async () => {
  if (skip) return;
  buildRustWorker();

  origin = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const got = { method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      seen.push(got);
      res.writeHead(200, { 'content-type': 'application/json', 'x-from-origin': '1' });
      res.end(JSON.stringify(got));
    });
  });
  originUrl = await listen(origin);

  const pair = await jose.generateKeyPair('RS256', { extractable: true });
  key = pair.privateKey;
  publicJwk = { ...(await jose.exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  const ec = await jose.generateKeyPair('ES256', { extractable: true });
  const ed = await jose.generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  ecKey = ec.privateKey;
  edKey = ed.privateKey;
  jwks = {
    keys: [
      publicJwk,
      { ...(await jose.exportJWK(ec.publicKey)), kid: 'k2', alg: 'ES256', use: 'sig' },
      { ...(await jose.exportJWK(ed.publicKey)), kid: 'k3', alg: 'EdDSA', use: 'sig' },
    ],
  };
  idp = http.createServer((req, res) => {
    if (req.url !== '/jwks.json') {
      res.writeHead(404).end();
      return;
    }
    jwksHits++;
    if (jwksHang) return; // never answers (closed when the server closes)
    if (jwksDown) {
      res.writeHead(503).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=600' });
    res.end(JSON.stringify(jwks));
  });
  idpUrl = await listen(idp);
});

after(async () => {
  for (const s of [origin, idp]) {
    if (!s) continue;
    s.closeAllConnections?.();
    await new Promise((r) => s.close(r));
  }
});

function config(revocationStore = 'kv') {
  return {
    providers: [
      { type: 'jwt', name: 'idp', issuer: ISSUER, audience: AUDIENCE, jwksUrl: `${idpUrl}/jwks.json`, algorithms: ['RS256', 'ES256', 'EdDSA'], rolesClaim: 'roles' },
    ],
    apiKeys: { enabled: true },
    revocation: { enabled: true, store: revocationStore },
    routes: [
      { name: 'public', path: '/public/**', public: true },
      { name: 'admin', path: '/admin/**', roles: ['admin'] },
      // API keys only where a route names them (least privilege).
      { name: 'api', path: '/api/**', providers: ['idp', 'apiKey'] },
    ],
  };
}

async function sign(claims, { exp = 600, kid = 'k1', alg = 'RS256', signer = key } = {}) {
  const now = Math.floor(Date.now() / 1000);
  return new jose.SignJWT(claims)
    .setProtectedHeader({ alg, kid, typ: 'JWT' })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt(now - 5)
    .setExpirationTime(now + exp)
    .sign(signer);
}

/** Starts the built Worker with local KV + DO; `fn(get, mf, logs)`; always disposes. */
async function withWorker(vars, fn) {
  const logs = [];
  const mf = new Miniflare(rustWorkerOptions({ bindings: { ORIGIN_URL: originUrl, ...vars }, logs }));
  try {
    const get = (p, init) => mf.dispatchFetch(`https://edgegate.test${p}`, { redirect: 'manual', ...init });
    await fn(get, mf, logs);
  } finally {
    await mf.dispose();
  }
}

async function problem(res, status, code) {
  const text = await res.text();
  assert.equal(res.status, status, `status (body ${text.slice(0, 300)})`);
  assert.equal(res.headers.get('content-type'), 'application/problem+json');
  const body = JSON.parse(text);
  assert.equal(body.code, code);
  return { body, text };
}

const waitFor = async (cond, ms = 5000) => {
  for (const end = Date.now() + ms; !cond() && Date.now() < end; ) await new Promise((r) => setTimeout(r, 20));
};

test('Rust Worker in workerd: decisions, KV, Durable Object, health', { skip, timeout: 1_800_000 }, async (t) => {
  const cfg = JSON.stringify(config('kv'));
  await withWorker({ EDGEGATE_CONFIG: cfg }, async (get, mf, logs) => {
    const user = await sign({ sub: 'alice', roles: ['user'], jti: 'j-user' });
    const admin = await sign({ sub: 'root', roles: ['admin'], jti: 'j-admin' });
    const hits = () => seen.length;

    await t.test('public route: 200 from the origin, no token needed', async () => {
      const res = await get('/public/a?x=1');
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('x-from-origin'), '1');
      assert.equal((await res.json()).url, '/public/a?x=1');
    });

    await t.test('missing token: 401 AUTH-005, WWW-Authenticate exact', async () => {
      const before = hits();
      const res = await get('/api/x');
      await problem(res, 401, 'AUTH-005');
      assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="edgegate"');
      assert.equal(hits(), before, 'the origin is not reached');
    });

    await t.test('valid RS256 token (JWKS fetched from the IdP): 200, identity headers, forged ones stripped', async () => {
      const res = await get('/api/x', { headers: { authorization: `Bearer ${user}`, 'x-user-roles': 'admin', 'x-user-id': 'mallory', x_user_id: 'eve' } });
      const got = await res.json();
      assert.equal(res.status, 200, JSON.stringify(got));
      assert.equal(got.headers['x-user-id'], 'alice');
      assert.equal(got.headers['x-user-roles'], 'user');
      assert.equal(got.headers['x-auth-provider'], 'idp');
      assert.equal(got.headers.x_user_id, undefined);
      assert.ok(jwksHits >= 1);
    });

    await t.test('ES256 and EdDSA tokens: 200; tampered ones 401 AUTH-004 (WebCrypto verdicts)', async () => {
      for (const [alg, kid, signer] of [['ES256', 'k2', ecKey], ['EdDSA', 'k3', edKey]]) {
        const tok = await sign({ sub: `u-${alg}`, roles: ['user'] }, { alg, kid, signer });
        const res = await get('/api/x', { headers: { authorization: `Bearer ${tok}` } });
        const text = await res.text();
        assert.equal(res.status, 200, `${alg}: ${text}`);
        assert.equal(JSON.parse(text).headers['x-user-id'], `u-${alg}`);
        const [h, p, sig] = tok.split('.');
        const other = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url')), sub: 'mallory' })).toString('base64url');
        await problem(await get('/api/x', { headers: { authorization: `Bearer ${h}.${other}.${sig}` } }), 401, 'AUTH-004');
      }
    });

    await t.test('the JWKS is written to KV (jwks:idp) with its cache times', async () => {
      const kv = await mf.getKVNamespace('EDGEGATE_KV');
      let rec;
      await waitFor(() => false, 200);
      rec = JSON.parse(await kv.get('jwks:idp'));
      assert.equal(rec.url, `${idpUrl}/jwks.json`);
      assert.ok(rec.freshUntil > rec.fetchedAt);
      assert.deepEqual(JSON.parse(rec.jwks).keys[0].kid, 'k1');
    });

    await t.test('expired token: 401 AUTH-002 with the exact WWW-Authenticate', async () => {
      const res = await get('/api/x', { headers: { authorization: `Bearer ${await sign({ sub: 'late' }, { exp: -3600 })}` } });
      await problem(res, 401, 'AUTH-002');
      assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="edgegate", error="invalid_token", error_description="token expired"');
    });

    await t.test('tampered token: 401 AUTH-004', async () => {
      const [h, p, s] = user.split('.');
      const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url')), roles: ['admin'] })).toString('base64url');
      const res = await get('/admin/x', { headers: { authorization: `Bearer ${h}.${forged}.${s}` } });
      const { text } = await problem(res, 401, 'AUTH-004');
      assert.match(res.headers.get('www-authenticate'), /^Bearer realm="edgegate", error="invalid_token"/);
      assert.ok(!text.includes(s), 'no signature in the body');
    });

    await t.test('wrong role: 403 AUTH-012 insufficient_scope; admin passes', async () => {
      const res = await get('/admin/x', { headers: { authorization: `Bearer ${user}` } });
      await problem(res, 403, 'AUTH-012');
      assert.match(res.headers.get('www-authenticate'), /error="insufficient_scope"/);
      const ok = await get('/admin/x', { headers: { authorization: `Bearer ${admin}` } });
      assert.equal(ok.status, 200);
    });

    await t.test('revoked jti via KV: 401 AUTH-010', async () => {
      const kv = await mf.getKVNamespace('EDGEGATE_KV');
      const tok = await sign({ sub: 'bob', roles: ['user'], jti: 'j-revoked' });
      assert.equal((await get('/api/x', { headers: { authorization: `Bearer ${tok}` } })).status, 200);
      await kv.put('revoked:j-revoked', '1', { expirationTtl: 3600 });
      await problem(await get('/api/x', { headers: { authorization: `Bearer ${tok}` } }), 401, 'AUTH-010');
    });

    await t.test('API key from KV (apikey:<id>): 200 as the key, unknown key 401 AUTH-003', async () => {
      const kv = await mf.getKVNamespace('EDGEGATE_KV');
      // The record exactly as the package's createApiKey makes it (secret hash only).
      const eg = await import(pathToFileURL(path.join(HERE, '.scratch', 'esm.mjs')).href);
      const c = eg.createApiKey({ account: 'acct', name: 'ci', roles: ['user'], expiresAt: Math.floor(Date.now() / 1000) + 3600 });
      const full = c.key;
      await kv.put(`apikey:${c.record.id}`, JSON.stringify(c.record));
      const res = await get('/api/k', { headers: { authorization: `Bearer ${full}` } });
      const text = await res.text();
      assert.equal(res.status, 200, text);
      assert.equal(JSON.parse(text).headers['x-auth-provider'], 'apiKey');
      await problem(await get('/api/k', { headers: { authorization: `Bearer ${eg.createApiKey({ account: 'acct', name: 'x', roles: [], expiresAt: Math.floor(Date.now() / 1000) + 3600 }).key}` } }), 401, 'AUTH-003');
    });

    await t.test('health: JWKS freshness, config hash, bindings; no keys or secrets', async () => {
      const res = await get('/.well-known/edgegate/health');
      assert.equal(res.status, 200);
      const h = await res.json();
      assert.equal(h.status, 'ok');
      assert.equal(h.configHash, createHash('sha256').update(cfg).digest('hex').slice(0, 16));
      assert.deepEqual(h.bindings, { EDGEGATE_KV: true, REVOCATIONS: true, RATE_LIMITER: true, EDGEGATE_RATELIMIT_KV: true });
      assert.equal(h.providers[0].name, 'idp');
      assert.equal(h.providers[0].jwks.state, 'fresh');
      assert.equal(typeof h.providers[0].jwks.ageSeconds, 'number');
      assert.ok(!JSON.stringify(h).includes(publicJwk.n));
      // RS256, ES256 and EdDSA checks went through WebCrypto, none fell back to pure Rust.
      assert.ok(h.signatureChecks.webcrypto >= 5, JSON.stringify(h.signatureChecks));
      assert.equal(h.signatureChecks.pure, 0);
    });

    await t.test('one JSON log line per decision, without tokens', async () => {
      await waitFor(() => logs.some((l) => l.includes('"edgegate":"decision"')));
      const lines = logs.filter((l) => l.includes('"edgegate":"decision"'));
      assert.ok(lines.length >= 5, logs.join('\n'));
      const d = JSON.parse(lines.find((l) => l.includes('AUTH-012')).replace(/^\w+: /, ''));
      assert.equal(d.route, 'admin');
      assert.equal(d.status, 403);
      assert.equal(typeof d.latencyMs, 'number');
      for (const l of logs) assert.ok(!l.includes(user.split('.')[2]) && !l.includes('egk_'), l);
    });
  });

  await t.test('a second isolate reads the JWKS from KV without fetching the IdP', async () => {
    // A fresh Miniflare has an empty KV: seed it as the first isolate would have.
    await withWorker({ EDGEGATE_CONFIG: cfg }, async (get, mf) => {
      const kv = await mf.getKVNamespace('EDGEGATE_KV');
      const now = Date.now();
      await kv.put('jwks:idp', JSON.stringify({ url: `${idpUrl}/jwks.json`, fetchedAt: now, freshUntil: now + 600_000, jwks: JSON.stringify(jwks) }));
      const before = jwksHits;
      jwksDown = true;
      try {
        const res = await get('/api/x', { headers: { authorization: `Bearer ${await sign({ sub: 'carol', roles: ['user'] })}` } });
        assert.equal(res.status, 200, await res.text());
        assert.equal(jwksHits, before, 'no IdP fetch');
      } finally {
        jwksDown = false;
      }
    });
  });

  await t.test('IdP down and nothing cached: 503 AUTH-007', async () => {
    await withWorker({ EDGEGATE_CONFIG: cfg }, async (get) => {
      jwksDown = true;
      try {
        await problem(await get('/api/x', { headers: { authorization: `Bearer ${await sign({ sub: 'dan' })}` } }), 503, 'AUTH-007');
      } finally {
        jwksDown = false;
      }
    });
  });

  await t.test('IdP that never answers: 503 AUTH-007 after the 5 s fetch timeout, not a hang', async () => {
    await withWorker({ EDGEGATE_CONFIG: cfg }, async (get) => {
      jwksHang = true;
      try {
        const started = Date.now();
        await problem(await get('/api/x', { headers: { authorization: `Bearer ${await sign({ sub: 'gus' })}` } }), 503, 'AUTH-007');
        const took = Date.now() - started;
        assert.ok(took >= 4000 && took < 20000, `took ${took} ms`);
      } finally {
        jwksHang = false;
      }
    });
  });

  await t.test('revocation through the Durable Object (revocation.store: "durable-object")', async () => {
    await withWorker({ EDGEGATE_CONFIG: JSON.stringify(config('durable-object')) }, async (get, mf) => {
      const tok = await sign({ sub: 'erin', roles: ['user'], jti: 'j-do' });
      assert.equal((await get('/api/x', { headers: { authorization: `Bearer ${tok}` } })).status, 200);
      // Revoke through the class's own protocol, on the shard the Worker asks.
      const shard = `revocations-${createHash('sha256').update('j-do').digest()[0] % 16}`;
      const ns = await mf.getDurableObjectNamespace('REVOCATIONS');
      const stub = ns.get(ns.idFromName(shard));
      const r = await stub.fetch(`https://revocations/revoke?id=j-do&exp=${Math.floor(Date.now() / 1000) + 600}`, { method: 'POST' });
      assert.deepEqual(await r.json(), { revoked: true });
      await problem(await get('/api/x', { headers: { authorization: `Bearer ${tok}` } }), 401, 'AUTH-010');
      // KV is not consulted in this mode.
      const kv = await mf.getKVNamespace('EDGEGATE_KV');
      const other = await sign({ sub: 'fay', roles: ['user'], jti: 'j-kv-only' });
      await kv.put('revoked:j-kv-only', '1');
      assert.equal((await get('/api/x', { headers: { authorization: `Bearer ${other}` } })).status, 200);
    });
  });

  await t.test('origin down: 502 problem+json', async () => {
    await withWorker({ EDGEGATE_CONFIG: cfg, ORIGIN_URL: 'http://127.0.0.1:9' }, async (get) => {
      const res = await get('/public/x');
      assert.equal(res.status, 502);
      assert.equal(res.headers.get('content-type'), 'application/problem+json');
      assert.equal((await res.json()).status, 502);
    });
  });

  await t.test('bad config: every request 500 AUTH-015, the log names the field only', async () => {
    const bad = config('kv');
    bad.routes[1].roles = { secret: 'admin-secret-value' };
    await withWorker({ EDGEGATE_CONFIG: JSON.stringify(bad) }, async (get, _mf, logs) => {
      await problem(await get('/public/x'), 500, 'AUTH-015');
      await problem(await get('/.well-known/edgegate/health'), 500, 'AUTH-015');
      await waitFor(() => logs.some((l) => l.includes('rejected')));
      const line = logs.find((l) => l.includes('rejected'));
      assert.ok(line, logs.join('\n'));
      assert.match(line, /at routes\[1\]\.roles/);
      assert.ok(!logs.join('\n').includes('admin-secret-value'));
    });
    await withWorker({ EDGEGATE_CONFIG: JSON.stringify({ ...config('kv'), revocation: { store: 'redis' } }) }, async (get, _mf, logs) => {
      await problem(await get('/public/x'), 500, 'AUTH-015');
      await waitFor(() => logs.some((l) => l.includes('rejected')));
      assert.match(logs.find((l) => l.includes('rejected')) ?? '', /at revocation\.store/);
    });
  });

  await t.test('a panic answers 500 for that request; the isolate recovers (worker-build reset)', async () => {
    await withWorker({ EDGEGATE_CONFIG: cfg, EDGEGATE_PANIC_PROBE: '1' }, async (get, _mf, logs) => {
      assert.equal((await get('/public/before')).status, 200);
      const res = await get('/.well-known/edgegate/panic-probe');
      assert.equal(res.status, 500);
      await res.text();
      const after = await get('/public/after');
      assert.equal(after.status, 200, 'the next request is served');
      assert.equal((await get('/api/x')).status, 401);
      await waitFor(() => logs.some((l) => l.includes('panic probe')));
      assert.ok(logs.some((l) => l.includes('panic probe')), logs.join('\n'));
    });
  });
});
