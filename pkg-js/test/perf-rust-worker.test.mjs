// Benchmark findings in the Rust Worker's request glue (docs/benchmarks.md, "Where the
// Worker's time goes"): workers-rs's Request wrapper read `request.cf` on every incoming
// request and again on the request built for the origin, and the Worker read it a third time
// for the mTLS facts (workerd parses the cf object on each access: ~4% of a request's CPU);
// the origin's response was rebuilt into a new Response (losing its status text). Now
// `request.cf` is read only when some route requires a client certificate, once per request,
// and the origin's response is returned as is.
//
// The probe: a module in front of build/index.js counts reads of `Request.prototype.cf` and
// answers them at /__cf-reads. Builds the Worker with scripts/build-worker.sh (skipped when
// up to date); EDGEGATE_SKIP_WORKER=1 skips this file.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { Miniflare } from 'miniflare';
import { buildRustWorker } from '../../scripts/rust-worker-miniflare.mjs';
import { close, listen } from './helpers/http.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const BUILD = path.join(ROOT, 'build');
const skip = process.env.EDGEGATE_SKIP_WORKER === '1';
const SECRET = 'perf-rust-worker-secret-0123456789abcdef';
const FP = 'cd'.repeat(32);

let origin;
let originUrl;
const seen = [];

before(async () => {
  if (skip) return;
  buildRustWorker();
  origin = http.createServer((req, res) => {
    seen.push({ method: req.method, url: req.url, headers: req.headers });
    res.writeHead(203, 'Fine Thanks', { 'content-type': 'text/plain', 'x-from-origin': '1' });
    res.end(`hello ${req.headers['x-user-id'] ?? '-'}`);
  });
  originUrl = await listen(origin);
});

after(() => close(origin));

const b64 = (s) => Buffer.from(s).toString('base64url');
function token(claims) {
  const now = Math.floor(Date.now() / 1000);
  const input = `${b64(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${b64(JSON.stringify({ iss: 'https://issuer.example', aud: 'api', iat: now, exp: now + 600, ...claims }))}`;
  return `${input}.${createHmac('sha256', SECRET).update(input).digest('base64url')}`;
}

const PROBE = `
import Inner from './index.js';
export * from './index.js';
let reads = 0;
const desc = Object.getOwnPropertyDescriptor(Request.prototype, 'cf');
if (desc && desc.get) {
  Object.defineProperty(Request.prototype, 'cf', { ...desc, get() { reads++; return desc.get.call(this); } });
}
export default class extends Inner {
  async fetch(request) {
    if (new URL(request.url).pathname === '/__cf-reads') {
      return new Response(JSON.stringify({ reads, getter: Boolean(desc && desc.get) }));
    }
    return super.fetch(request);
  }
}`;

async function withWorker(routes, fn) {
  const mf = new Miniflare({
    modules: true,
    script: PROBE,
    scriptPath: path.join(BUILD, '__cf_probe.mjs'),
    modulesRoot: BUILD,
    modulesRules: [
      { type: 'ESModule', include: ['**/*.js', '**/*.mjs'] },
      { type: 'CompiledWasm', include: ['**/*.wasm'] },
    ],
    compatibilityDate: '2025-09-01',
    cf: false,
    kvNamespaces: ['EDGEGATE_KV'],
    durableObjects: { REVOCATIONS: { className: 'Revocations', useSQLite: true } },
    bindings: {
      ORIGIN_URL: originUrl,
      EDGEGATE_CONFIG: JSON.stringify({
        providers: [{ type: 'jwt', name: 'jwt', issuer: 'https://issuer.example', audience: 'api', secret: SECRET, algorithms: ['HS256'], rolesClaim: 'roles' }],
        routes,
      }),
    },
    handleStructuredLogs: () => {},
  });
  try {
    const get = (p, init = {}) => mf.dispatchFetch(`https://edgegate.test${p}`, { redirect: 'manual', ...init });
    const reads = async () => {
      const r = await (await get('/__cf-reads')).json();
      assert.ok(r.getter, 'Request.prototype.cf is a getter in this workerd');
      return r.reads;
    };
    await fn(get, reads);
  } finally {
    await mf.dispose();
  }
}

const ROUTES = [
  { name: 'public', path: '/public/**', public: true },
  { name: 'admin', path: '/admin/**', roles: ['admin'] },
];

test('request.cf is not read when no route requires a client certificate', { skip }, async () => {
  await withWorker(ROUTES, async (get, reads) => {
    const before = await reads();
    const pub = await get('/public/a?x=1');
    assert.equal(await pub.text(), 'hello -');
    const admin = await get('/admin/b', { headers: { authorization: `Bearer ${token({ sub: 'ann', roles: ['admin'] })}` } });
    assert.equal(await admin.text(), 'hello ann');
    const denied = await get('/admin/b', { headers: { authorization: `Bearer ${token({ sub: 'bob', roles: [] })}` } });
    assert.equal(denied.status, 403);
    await denied.text();
    assert.equal(await reads(), before, 'request.cf reads for three decisions');
  });
});

test('with an mTLS route, request.cf is read once per request, and still decides', { skip }, async () => {
  await withWorker([...ROUTES, { name: 'mtls', path: '/mtls/**', public: true, mtls: { fingerprints: [FP] } }], async (get, reads) => {
    const before = await reads();
    const tls = { certPresented: '1', certVerified: 'SUCCESS', certRevoked: '0', certFingerprintSHA256: FP };
    const ok = await get('/mtls/x', { cf: { tlsClientAuth: tls } });
    assert.equal(ok.status, 203, await ok.text());
    const none = await get('/mtls/x');
    assert.equal(none.status, 403);
    await none.text();
    const pub = await get('/public/y');
    await pub.text();
    assert.equal(await reads(), before + 3, 'one request.cf read per request');
  });
});

test("the origin's response is returned as is (status text kept)", { skip }, async () => {
  await withWorker(ROUTES, async (get) => {
    const res = await get('/public/z');
    assert.equal(res.status, 203);
    assert.equal(res.statusText, 'Fine Thanks');
    assert.equal(res.headers.get('x-from-origin'), '1');
    assert.equal(await res.text(), 'hello -');
  });
});

test('an unknown method (PROPFIND) is decided and forwarded as itself, never as GET', { skip }, async () => {
  await withWorker([{ name: 'get-only', path: '/get-only/**', methods: ['GET'], public: true }, ...ROUTES], async (get) => {
    // workers-rs's Method read PROPFIND as GET: a GET-only public route let it through.
    const refused = await get('/get-only/x', { method: 'PROPFIND' });
    assert.equal(refused.status, 403, 'a GET-only route does not match PROPFIND');
    await refused.text();
    seen.length = 0;
    const passed = await get('/public/dav', { method: 'PROPFIND' });
    assert.equal(passed.status, 203);
    await passed.text();
    assert.deepEqual(seen.map((r) => r.method), ['PROPFIND']);
  });
});
