// Package leftovers (issues 9 and 12): API keys only on routes naming `apiKey`, the
// `onDecision` hook, the generated `GateConfig` type.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as jose from 'jose';
import { importEdgegate, repoRoot, scratchDir } from './helpers/scratch.mjs';

const eg = await importEdgegate();
const SECRET = 'a-string-secret-at-least-256-bits-long';
const sign = (claims = {}) =>
  new jose.SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuer('https://issuer.example').setAudience('api').setSubject('u1').setExpirationTime('5m').sign(new TextEncoder().encode(SECRET));
const JWT = { type: 'jwt', name: 'main', issuer: 'https://issuer.example', audience: 'api', secret: SECRET };

describe('API keys: least privilege', () => {
  const now = Math.floor(Date.now() / 1000);
  const { key, record } = eg.createApiKey({ account: 'acme', name: 'ci', roles: ['deployer'], expiresAt: now + 3600 });
  const config = {
    providers: [JWT],
    apiKeys: {},
    routes: [
      { path: '/any/**' },
      { path: '/jwt/**', providers: ['main'] },
      { path: '/keys/**', providers: ['apiKey'] },
      { path: '/both/**', providers: ['main', 'apiKey'] },
    ],
  };
  const lookups = [];
  const gate = eg.Gate.create(config, { env: {}, store: { apiKey: (id) => (lookups.push(id), id === record.id ? record : null) } });
  const ask = (path, cred) => gate.decide({ method: 'GET', path, headers: { authorization: `Bearer ${cred}` } });

  it('a key is refused on a route without providers, before any store lookup', async () => {
    lookups.length = 0;
    const d = await ask('/any/x', key);
    assert.equal(d.allow, false);
    assert.equal(d.code, 'AUTH-003');
    assert.equal(d.status, 401);
    assert.match(d.detail, /not accepted on this route/);
    assert.equal(d.body.includes(key), false, 'the key is never echoed');
    assert.deepEqual(lookups, [], 'no store lookup for a route that does not take keys');
  });

  it('a key is refused on a route naming only token providers', async () => {
    const d = await ask('/jwt/x', key);
    assert.equal(d.allow, false);
    assert.equal(d.code, 'AUTH-003');
  });

  it('a key is accepted where the route names apiKey; tokens still pass on routes without providers', async () => {
    for (const p of ['/keys/x', '/both/x']) {
      const d = await ask(p, key);
      assert.equal(d.allow, true, p);
      assert.equal(d.identity.provider, 'apiKey');
    }
    const t = await sign();
    assert.equal((await ask('/any/x', t)).allow, true);
    assert.equal((await ask('/both/x', t)).allow, true);
  });

  it('a config where a protected route could accept no credential is refused, naming the route', () => {
    assert.throws(
      () => eg.Gate.create({ apiKeys: {}, routes: [{ path: '/keys/**', providers: ['apiKey'] }, { path: '/x/**' }] }, { env: {} }),
      (e) => e.code === 'AUTH-015' && /routes\[1\]\.providers/.test(e.message) && /apiKey/.test(e.message),
    );
  });
});

describe('onDecision', () => {
  const config = { providers: [JWT], routes: [{ name: 'open', path: '/open', public: true }, { name: 'api', path: '/api/**', roles: ['admin'] }] };

  it('gets a redacted summary of every decision', async () => {
    const seen = [];
    const gate = eg.Gate.create(config, { env: {}, onDecision: (s) => seen.push(s) });
    const t = await sign({ roles: ['admin'], secretClaim: 'do-not-log' });
    await gate.decide({ method: 'GET', path: '/api/a', headers: { authorization: `Bearer ${t}` } });
    await gate.decide({ method: 'GET', path: '/api/a' });
    await gate.decide({ method: 'GET', path: '/open' });
    assert.equal(seen.length, 3);
    const [ok, denied, pub] = seen;
    assert.deepEqual(Object.keys(ok).sort(), ['allow', 'code', 'latencyMs', 'provider', 'route', 'status', 'sub']);
    assert.deepEqual({ ...ok, latencyMs: 0 }, { route: 'api', allow: true, status: 200, code: null, provider: 'main', sub: 'u1', latencyMs: 0 });
    assert.ok(typeof ok.latencyMs === 'number' && ok.latencyMs >= 0);
    assert.deepEqual({ ...denied, latencyMs: 0 }, { route: 'api', allow: false, status: 401, code: 'AUTH-005', provider: null, sub: null, latencyMs: 0 });
    assert.equal(pub.allow, true);
    assert.equal(pub.sub, null);
    const text = JSON.stringify(seen);
    assert.equal(text.includes(t), false, 'no token');
    assert.equal(text.includes('do-not-log'), false, 'no claims');
    assert.equal(text.includes(SECRET), false, 'no secret');
  });

  it('a throwing or rejecting hook never changes a decision', async () => {
    const t = await sign({ roles: ['admin'] });
    for (const hook of [
      () => {
        throw new Error('boom');
      },
      async () => {
        throw new Error('async boom');
      },
      (s) => {
        s.allow = !s.allow;
        s.status = 500;
      },
    ]) {
      const gate = eg.Gate.create(config, { env: {}, onDecision: hook });
      const a = await gate.decide({ method: 'GET', path: '/api/a', headers: { authorization: `Bearer ${t}` } });
      assert.equal(a.allow, true);
      assert.equal(a.status, 200);
      const d = await gate.decide({ method: 'GET', path: '/api/a' });
      assert.equal(d.allow, false);
      assert.equal(d.status, 401);
    }
  });
});

describe('GateConfig type', () => {
  const dir = join(scratchDir, 'ts-config');
  const tsc = join(repoRoot, 'node_modules', '.bin', 'tsc');
  const compile = (body) => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'use.mts'), body);
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'node16', moduleResolution: 'node16', target: 'es2022', strict: true, noEmit: true, lib: ['es2022', 'dom'], types: [] }, files: ['use.mts'] }));
    try {
      execFileSync(tsc, ['-p', dir], { cwd: dir, encoding: 'utf8' });
      return '';
    } catch (e) {
      return `${e.stdout}${e.stderr}` || 'failed';
    }
  };
  const GOOD = `{
    providers: [{ type: 'auth0', domain: { env: 'AUTH0_DOMAIN' }, audience: 'api' }, { type: 'jwt', name: 'main', issuer: 'https://i.example', secret: { env: 'JWT_SECRET' } }],
    apiKeys: { enabled: true },
    rateLimits: [{ name: 'per-user', key: 'sub', limit: 100, window: 60 }],
    routes: [{ path: '/api/**', roles: ['admin'], rateLimits: ['per-user'] }, { path: '/health', public: true }, { path: '/deploy/**', providers: ['apiKey'] }],
  }`;

  it('a correct config literal compiles, with Gate.create and as a GateConfig', () => {
    const out = compile(`import { Gate, type GateConfig } from 'edgegate';
const config: GateConfig = ${GOOD};
export const g = Gate.create(config, { env: {} });
export const h = Gate.create(${GOOD});
export const j = Gate.create(JSON.stringify(config));
`);
    assert.equal(out, '');
  });

  for (const [what, bad, msg] of [
    ['a misspelt top-level field', GOOD.replace('routes:', 'route:'), /route/],
    ['a misspelt route field', GOOD.replace("public: true", 'pubilc: true'), /pubilc/],
    ['a misspelt provider field', GOOD.replace("audience: 'api'", "audeince: 'api'"), /audeince|not assignable/],
    ['an unknown provider type', GOOD.replace("type: 'auth0'", "type: 'auht0'"), /auht0|not assignable/],
    ['a wrong value type', GOOD.replace('limit: 100', "limit: '100'"), /not assignable/],
  ]) {
    it(`${what} fails tsc --noEmit`, () => {
      const out = compile(`import { Gate, type GateConfig } from 'edgegate';
export const config: GateConfig = ${bad};
export const g = Gate.create(${bad});
`);
      assert.notEqual(out, '', 'tsc accepted it');
      assert.match(out, msg);
    });
  }
});
