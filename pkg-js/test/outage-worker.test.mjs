// Outages and faults (issue 13) through the Rust Worker (build/, scripts/build-worker.sh) in
// workerd (Miniflare 4): the IdP down, hanging and flapping, with keys cached in KV within and
// past maxStale; KV that throws and KV that is slow (a wrapped binding standing in for
// EDGEGATE_KV); a revocation Durable Object that throws, answers 500 or answers nonsense;
// the origin down. For each: the documented answer (docs/security.md "Failure modes") in
// bounded time, and nothing let through that the config does not allow.
//
// EDGEGATE_SKIP_WORKER=1 skips this file (as rust-worker.test.mjs).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import * as jose from 'jose';
import { Miniflare } from 'miniflare';
import { buildRustWorker, rustWorkerScript } from '../../scripts/rust-worker-miniflare.mjs';
import { listen } from './helpers/http.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const BUILD = path.join(ROOT, 'build');
const ISSUER = 'https://idp.example';
const skip = process.env.EDGEGATE_SKIP_WORKER === '1';
const MIN = 60_000;

let origin;
let originUrl;
let originHits = 0;
let idp;
let idpUrl;
let idpMode = 'up'; // up | down | hang | flap
let flip = false;
let jwksHits = 0;
let key;
let jwks;


before(async () => {
  if (skip) return;
  buildRustWorker();
  origin = http.createServer((req, res) => {
    originHits++;
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ user: req.headers['x-user-id'] ?? null }));
    });
  });
  originUrl = await listen(origin);
  const pair = await jose.generateKeyPair('RS256', { extractable: true });
  key = pair.privateKey;
  jwks = { keys: [{ ...(await jose.exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }] };
  idp = http.createServer((_req, res) => {
    jwksHits++;
    let mode = idpMode;
    if (mode === 'flap') mode = (flip = !flip) ? 'up' : 'down';
    if (mode === 'hang') return;
    if (mode === 'down') return res.writeHead(503).end();
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

const config = (revocationStore = 'kv') => ({
  providers: [{ type: 'jwt', name: 'idp', issuer: ISSUER, audience: 'api', jwksUrl: `${idpUrl}/jwks.json`, algorithms: ['RS256'], rolesClaim: 'roles' }],
  apiKeys: { enabled: true },
  revocation: { enabled: true, store: revocationStore },
  routes: [
    { name: 'public', path: '/public/**', public: true },
    { name: 'api', path: '/api/**', providers: ['idp', 'apiKey'] },
  ],
});

const nowS = () => Math.floor(Date.now() / 1000);
const sign = (claims, exp = 600) =>
  new jose.SignJWT({ roles: ['user'], ...claims }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setIssuer(ISSUER).setAudience('api').setIssuedAt(nowS() - 5).setExpirationTime(nowS() + exp).sign(key);

// A wrapped binding standing in for EDGEGATE_KV: `mode` "throw" (every call rejects) or
// "slow" (answers "not found" after `delayMs`); writes are accepted.
const FAULTY_KV = `
export default function (env) {
  const fail = async (delay) => {
    if (env.mode === 'throw') throw new Error('KV GET failed: 500 Internal Server Error');
    await new Promise((r) => setTimeout(r, env.delayMs));
    return null;
  };
  return {
    get: () => fail(),
    getWithMetadata: async () => ({ value: await fail(), metadata: null }),
    put: async () => {},
    list: async () => ({ keys: [], list_complete: true }),
    delete: async () => {},
  };
}`;

// A revocation Durable Object class that fails in one of three ways.
const BROKEN_DO = `
export class BrokenRevocations {
  constructor(state, env) { this.env = env; }
  async fetch() {
    if (this.env.DO_MODE === 'throw') throw new Error('storage exploded');
    if (this.env.DO_MODE === 'status') return new Response('overloaded', { status: 500 });
    return Response.json({ revoked: 'no' });
  }
}
export default { fetch() { return new Response('x'); } };`;

async function withWorker({ vars = {}, kv = null, brokenDo = null, cfg = config() } = {}, fn) {
  const main = {
    name: 'edgegate',
    ...rustWorkerScript(),
    bindings: { ORIGIN_URL: originUrl, EDGEGATE_CONFIG: JSON.stringify(cfg), ...vars },
  };
  const workers = [main];
  if (kv) {
    main.wrappedBindings = { EDGEGATE_KV: { scriptName: 'faulty-kv', bindings: kv } };
    workers.push({ name: 'faulty-kv', modules: true, script: FAULTY_KV });
  } else {
    main.kvNamespaces = ['EDGEGATE_KV'];
  }
  if (brokenDo) {
    main.durableObjects = { REVOCATIONS: { className: 'BrokenRevocations', scriptName: 'broken-do' } };
    workers.push({ name: 'broken-do', modules: true, script: BROKEN_DO, compatibilityDate: '2025-09-01', bindings: { DO_MODE: brokenDo } });
  } else {
    main.durableObjects = { REVOCATIONS: { className: 'Revocations', useSQLite: true } };
  }
  const mf = new Miniflare({ workers, cf: false, handleStructuredLogs: () => {} });
  try {
    const get = async (p, init) => {
      const started = Date.now();
      const res = await mf.dispatchFetch(`https://edgegate.test${p}`, { redirect: 'manual', ...init });
      const text = await res.text();
      let body = null;
      try {
        body = JSON.parse(text);
      } catch {}
      return { status: res.status, type: res.headers.get('content-type'), body, text, took: Date.now() - started };
    };
    await fn(get, mf);
  } finally {
    await mf.dispose();
  }
}

const bearer = (t) => ({ headers: { authorization: `Bearer ${t}` } });
const kvRecord = (fetchedAt, freshUntil) => JSON.stringify({ url: `${idpUrl}/jwks.json`, fetchedAt, freshUntil, jwks: JSON.stringify(jwks) });

test('Rust Worker under outages and faults', { skip, timeout: 600_000 }, async (t) => {
  await t.test('IdP flapping after the keys are cached: every valid token 200, every forged one refused', async () => {
    await withWorker({}, async (get) => {
      idpMode = 'up';
      const ok = await sign({ sub: 'a' });
      assert.equal((await get('/api/x', bearer(ok))).status, 200);
      idpMode = 'flap';
      try {
        const [h, p, s] = ok.split('.');
        const forged = `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url')), sub: 'root' })).toString('base64url')}.${s}`;
        for (let i = 0; i < 20; i++) {
          const r = await get('/api/x', bearer(i % 2 ? ok : forged));
          assert.equal(r.status, i % 2 ? 200 : 401, `request ${i}: ${r.text}`);
          if (!(i % 2)) assert.equal(r.body.code, 'AUTH-004');
        }
      } finally {
        idpMode = 'up';
      }
    });
  });

  await t.test('IdP down / hanging with stale keys in KV: within maxStale served (bounded by the 5 s fetch timeout); past it 503 AUTH-007', async () => {
    const ok = await sign({ sub: 'b' });
    for (const mode of ['down', 'hang']) {
      // Stale for 10 minutes: within the 1 h maxStale.
      await withWorker({}, async (get, mf) => {
        const kv = await mf.getKVNamespace('EDGEGATE_KV');
        await kv.put('jwks:idp', kvRecord(Date.now() - 20 * MIN, Date.now() - 10 * MIN));
        idpMode = mode;
        try {
          const r = await get('/api/x', bearer(ok));
          assert.equal(r.status, 200, `${mode}: ${r.text}`);
          assert.ok(r.took < 15_000, `${mode}: took ${r.took} ms`);
        } finally {
          idpMode = 'up';
        }
      });
      // Fresh until 70 minutes ago: past freshness + maxStale, withdrawn.
      await withWorker({}, async (get, mf) => {
        const kv = await mf.getKVNamespace('EDGEGATE_KV');
        await kv.put('jwks:idp', kvRecord(Date.now() - 80 * MIN, Date.now() - 70 * MIN));
        idpMode = mode;
        const before = originHits;
        try {
          const r = await get('/api/x', bearer(ok));
          assert.deepEqual([r.status, r.type, r.body?.code], [503, 'application/problem+json', 'AUTH-007'], `${mode}: ${r.text}`);
          assert.ok(r.took < 15_000, `${mode}: took ${r.took} ms`);
          assert.equal(originHits, before, 'the origin is not reached');
        } finally {
          idpMode = 'up';
        }
      });
    }
  });

  await t.test('KV errors: API keys and KV revocation fail closed (500 AUTH-015); JWKS falls through to the IdP', async () => {
    const eg = await import(pathToFileURL(path.join(HERE, '.scratch', 'esm.mjs')).href);
    await withWorker({ kv: { mode: 'throw', delayMs: 0 } }, async (get) => {
      const { key: apiKey } = eg.createApiKey({ account: 'acct', name: 'ci', roles: ['user'], expiresAt: nowS() + 3600 });
      const before = originHits;
      const k = await get('/api/k', bearer(apiKey));
      assert.deepEqual([k.status, k.body?.code], [500, 'AUTH-015'], k.text);
      const withJti = await get('/api/x', bearer(await sign({ sub: 'c', jti: 'j-kv-err' })));
      assert.deepEqual([withJti.status, withJti.body?.code], [500, 'AUTH-015'], withJti.text);
      assert.equal(originHits, before, 'nothing reached the origin');
      // Without a jti there is nothing to look up: the token passes (keys from the IdP).
      const plain = await get('/api/x', bearer(await sign({ sub: 'c' })));
      assert.equal(plain.status, 200, plain.text);
      assert.ok(!k.text.includes(apiKey) && !k.text.includes('exploded'));
    });
  });

  await t.test('slow KV (2 s, or never answering): lookups fail closed at the 1 s store timeout (500 AUTH-015); the JWKS tier skips KV', async () => {
    const eg = await import(pathToFileURL(path.join(HERE, '.scratch', 'esm.mjs')).href);
    for (const delayMs of [2000, 600_000]) {
      await withWorker({ kv: { mode: 'slow', delayMs } }, async (get) => {
        const before = originHits;
        const r = await get('/api/x', bearer(await sign({ sub: 'd', jti: 'j-slow' })));
        assert.deepEqual([r.status, r.body?.code], [500, 'AUTH-015'], `${delayMs}: ${r.text}`);
        assert.ok(r.took < 8000, `${delayMs}: took ${r.took}`);
        const { key: apiKey } = eg.createApiKey({ account: 'acct', name: 'ci', roles: ['user'], expiresAt: nowS() + 3600 });
        const k = await get('/api/k', bearer(apiKey));
        assert.deepEqual([k.status, k.body?.code], [500, 'AUTH-015'], `${delayMs}: ${k.text}`);
        assert.ok(k.took < 4000, `${delayMs}: took ${k.took}`);
        assert.equal(originHits, before, 'nothing reached the origin');
        // No jti: nothing to look up; the keys come from the IdP after the KV tier timed out.
        const plain = await get('/api/x', bearer(await sign({ sub: 'd' })));
        assert.equal(plain.status, 200, plain.text);
      });
    }
  });

  await t.test('revocation Durable Object errors (throws, 500, nonsense answer): 500 AUTH-015, never allowed', async () => {
    for (const mode of ['throw', 'status', 'nonsense']) {
      await withWorker({ brokenDo: mode, cfg: config('durable-object') }, async (get) => {
        const before = originHits;
        const r = await get('/api/x', bearer(await sign({ sub: 'e', jti: `j-do-${mode}` })));
        assert.deepEqual([r.status, r.type, r.body?.code], [500, 'application/problem+json', 'AUTH-015'], `${mode}: ${r.text}`);
        assert.equal(originHits, before, `${mode}: the origin is not reached`);
        assert.ok(!r.text.includes('exploded') && !r.text.includes('overloaded'), 'no store error text leaks');
      });
    }
  });

  await t.test('origin down: 502 problem+json after the decision; a denied request is still denied', async () => {
    await withWorker({ vars: { ORIGIN_URL: 'http://127.0.0.1:9' } }, async (get) => {
      const tok = await sign({ sub: 'f' });
      const r = await get('/api/x', bearer(tok));
      assert.deepEqual([r.status, r.type, r.body?.status], [502, 'application/problem+json', 502], r.text);
      assert.ok(!r.text.includes(tok.split('.')[2]), 'no token in the body');
      const denied = await get('/api/x');
      assert.deepEqual([denied.status, denied.body?.code], [401, 'AUTH-005']);
    });
  });
});
