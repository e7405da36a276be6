// The CLI leftovers of issue 12, run as a subprocess from the installed tarball: `health`
// against local discovery/JWKS servers, `apikey rotate`, `ratelimit status` on a memory
// store (the Redis case is in redis-pkg2.test.mjs).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as jose from 'jose';
import { importEdgegate, scratchDir } from './helpers/scratch.mjs';
import { runCli as run } from './helpers/scratch.mjs';

const eg = await importEdgegate();
const dir = mkdtempSync(join(tmpdir(), 'edgegate-cli-pkg2-'));


let idp;
let base;
let lie = false;
let jwks;

before(async () => {
  const { publicKey } = await jose.generateKeyPair('ES256');
  jwks = { keys: [{ ...(await jose.exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' }] };
  idp = http.createServer((req, res) => {
    if (req.url === '/.well-known/openid-configuration') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=600' });
      res.end(JSON.stringify({ issuer: lie ? 'https://elsewhere.example' : base, jwks_uri: `${base}/jwks` }));
    } else if (req.url === '/jwks') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=300', etag: '"v1"' });
      res.end(JSON.stringify(jwks));
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise((r) => idp.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${idp.address().port}`;
});

after(() => idp?.close());

describe('edgegate health', () => {
  it('discovery and JWKS reachable: key count, cache headers, timing (json and text)', async () => {
    const r = await run(['health', '--provider', 'oauth2', '--issuer', base, '--audience', 'api', '--format', 'json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const o = JSON.parse(r.stdout);
    assert.equal(o.healthy, true);
    const [p] = o.providers;
    assert.equal(p.keys, 'remote');
    assert.deepEqual(p.steps.map((s) => s.step), ['discovery', 'jwks']);
    assert.equal(p.steps[0].url, `${base}/.well-known/openid-configuration`);
    assert.equal(p.steps[0].cacheControl, 'public, max-age=600');
    assert.equal(p.steps[1].url, `${base}/jwks`);
    assert.equal(p.steps[1].keyCount, 1);
    assert.deepEqual(p.steps[1].kids, ['k1']);
    assert.equal(p.steps[1].cacheControl, 'public, max-age=300');
    assert.equal(p.steps[1].etag, '"v1"');
    assert.ok(p.steps.every((s) => typeof s.ms === 'number' && s.ms >= 0));
    assert.match(r.stderr, /GET .*openid-configuration/, 'a progress line for network steps');
    const t = await run(['health', '--provider', 'oauth2', `--issuer=${base}`, '--audience', 'api']);
    assert.equal(t.code, 0);
    assert.match(t.stdout, /healthy/);
    assert.match(t.stdout, /1 key\(s\) \(k1\)/);
    assert.match(t.stdout, /cache-control: public, max-age=300/);
  });

  it('a JWKS URL directly; settings from the environment', async () => {
    const j = await run(['health', '--provider', 'jwt', '--jwks-url', `${base}/jwks`, '--format', 'json'], { JWT_ISSUER: 'https://issuer.example' });
    assert.equal(j.code, 0, j.stdout + j.stderr);
    assert.deepEqual(JSON.parse(j.stdout).providers[0].steps.map((s) => [s.step, s.keyCount ?? null]), [['jwks', 1]]);
  });

  it('unhealthy: an issuer mismatch, an empty key set, an unreachable server (exit 1); local keys need nothing', async () => {
    lie = true;
    try {
      const r = await run(['health', '--provider', 'oauth2', '--issuer', base, '--audience', 'api', '--format', 'json']);
      assert.equal(r.code, 1);
      const s = JSON.parse(r.stdout).providers[0].steps;
      assert.equal(s.length, 1, 'no JWKS fetch after a bad discovery document');
      assert.match(s[0].error, /issuer/);
    } finally {
      lie = false;
    }
    const saved = jwks.keys;
    jwks.keys = [];
    try {
      const r = await run(['health', '--provider', 'jwt', '--issuer', 'https://issuer.example', '--jwks-url', `${base}/jwks`, '--format', 'json']);
      assert.equal(r.code, 1);
      assert.match(JSON.parse(r.stdout).providers[0].steps[0].error, /empty/);
    } finally {
      jwks.keys = saved;
    }
    const down = await run(['health', '--provider', 'jwt', '--issuer', 'https://issuer.example', '--jwks-url', 'http://127.0.0.1:1/jwks', '--timeout', '2000', '--format', 'json']);
    assert.equal(down.code, 1);
    assert.equal(JSON.parse(down.stdout).providers[0].steps[0].ok, false);
    const local = await run(['health', '--provider', 'jwt', '--issuer', 'https://issuer.example', '--format', 'json'], { JWT_SECRET: 'a-string-secret-at-least-256-bits-long' });
    assert.equal(local.code, 0, local.stdout + local.stderr);
    assert.equal(JSON.parse(local.stdout).providers[0].keys, 'local');
    assert.ok(!local.stdout.includes('a-string-secret'), 'no secret printed');
    assert.equal((await run(['health'])).code, 2, '--provider is required');
  });
});

describe('edgegate apikey rotate', () => {
  it('a new key with the same grants; the old one revoked at once, or after --overlap', async () => {
    const store = join(dir, 'keys.json');
    const c = JSON.parse((await run(['apikey', 'create', '--account', 'acme', '--name', 'ci', '--role', 'deployer', '--permission', 'deploy:run', '--store', store, '--format', 'json'])).stdout);
    const r = await run(['apikey', 'rotate', c.record.id, '--store', store, '--format', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const o = JSON.parse(r.stdout);
    assert.match(o.key, /^egk_/);
    assert.notEqual(o.record.id, c.record.id);
    assert.deepEqual([o.record.account, o.record.name, o.record.roles, o.record.permissions], ['acme', 'ci', ['deployer'], ['deploy:run']]);
    assert.deepEqual(o.replaced, { id: c.record.id, revoked: true, expiresAt: c.record.expiresAt });
    assert.equal(o.wrangler.length, 2);
    assert.match(o.wrangler[0], new RegExp(`^wrangler kv key put --binding=EDGEGATE_KV "apikey:${o.record.id}" '`));
    assert.match(o.wrangler[1], new RegExp(`"apikey:${c.record.id}" '.*"revoked":true`));
    const saved = readFileSync(store, 'utf8');
    assert.ok(!saved.includes(o.key) && !saved.includes(c.key), 'no secret in the store');

    // The gate over the file store: the new key passes, the old one does not.
    const records = new Map(JSON.parse(saved).keys.map((k) => [k.id, k]));
    const gate = eg.Gate.create({ apiKeys: {}, routes: [{ path: '/deploy/**', providers: ['apiKey'] }] }, { env: {}, store: { apiKey: (id) => records.get(id) ?? null } });
    const ask = (k) => gate.decide({ method: 'POST', path: '/deploy/x', headers: { authorization: `Bearer ${k}` } });
    assert.equal((await ask(o.key)).allow, true);
    assert.equal((await ask(c.key)).code, 'AUTH-003');

    // With an overlap: the old key keeps working until then.
    const o2 = JSON.parse((await run(['apikey', 'rotate', o.record.id, '--overlap', '600', '--store', store, '--format', 'json'])).stdout);
    assert.equal(o2.replaced.revoked, false);
    const now = Math.floor(Date.now() / 1000);
    assert.ok(Math.abs(o2.replaced.expiresAt - (now + 600)) <= 5, String(o2.replaced.expiresAt - now));
    const again = await run(['apikey', 'rotate', c.record.id, '--store', store]);
    assert.equal(again.code, 1, 'a revoked key is not rotated');
    assert.equal((await run(['apikey', 'rotate', o.record.id, '--overlap', '99999999', '--store', store])).code, 2);
    const t = await run(['apikey', 'rotate', o2.record.id, '--store', store, '--binding', 'MY_KV']);
    assert.equal(t.code, 0);
    assert.match(t.stdout, /new key \(shown once\): egk_/);
    assert.match(t.stdout, /--binding=MY_KV "apikey:/);
  });
});

describe('edgegate ratelimit status (memory)', () => {
  it('says a memory counter is not readable from outside; unknown policy is exit 2', async () => {
    const file = join(dir, 'mem.json');
    writeFileSync(file, JSON.stringify({ rateLimits: [{ name: 'by-ip', limit: 10, window: 60, key: 'ip' }], routes: [{ path: '/**', public: true, rateLimits: ['by-ip'] }] }));
    const r = await run(['ratelimit', 'status', '--config', file, '--policy', 'by-ip', '--key', '203.0.113.9', '--format', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const o = JSON.parse(r.stdout);
    assert.equal(o.meaningful, false);
    assert.equal(o.store, 'memory');
    assert.equal(o.limit, 10);
    assert.match(o.reason, /inside each running gate process/);
    const t = await run(['ratelimit', 'status', '--config', file, '--policy', 'by-ip', '--key', '203.0.113.9']);
    assert.match(t.stdout, /not meaningful/);
    assert.equal((await run(['ratelimit', 'status', '--config', file, '--policy', 'nope', '--key', 'x'])).code, 2);
    assert.equal((await run(['ratelimit', 'status', '--config', file, '--policy', 'by-ip'])).code, 2, '--key is required');
  });

  it('--help lists the new commands', async () => {
    const r = await run(['--help']);
    for (const c of ['health --provider', 'apikey rotate', 'ratelimit status']) assert.ok(r.stdout.includes(c), c);
  });
});
