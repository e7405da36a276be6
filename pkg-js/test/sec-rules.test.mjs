// Issue 7, config and policy rules, as JS users see them (installed tarball):
// finding 4 (token permissions are literal) and 8 (path/method differentials) through
// Gate.decide, 9 (AUTH_ENABLED exactly true/false) through Gate.create and the CLI,
// 10 (one URL rule judging the real host) through createRemoteJWKSet and the Gate config.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as jose from 'jose';
import { importEdgegate, requireEdgegate, scratchDir } from './helpers/scratch.mjs';
import { runCli } from './helpers/scratch.mjs';

const eg = await importEdgegate();
const SECRET = 'sec-rules-js-test-secret-of-32-bytes-or-more';
const env = { JWT_SECRET: SECRET };
const provider = { type: 'jwt', issuer: 'https://issuer.example', audience: 'api', secret: { env: 'JWT_SECRET' }, permissionsClaim: ['permissions', 'scope'] };

function token(claims = {}) {
  return new jose.SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuer('https://issuer.example').setAudience('api').setSubject('u1').setExpirationTime('5m').sign(new TextEncoder().encode(SECRET));
}

const bearer = (t) => [['Authorization', `Bearer ${t}`]];

describe('finding 4: permissions from a token are literal', () => {
  const gate = eg.Gate.create(
    {
      providers: [provider],
      rbac: { roles: { ops: { permissions: ['admin:*'] } } },
      routes: [{ path: '/admin/delete', permissions: ['admin:delete'] }],
    },
    { env },
  );
  for (const claims of [{ scope: '*' }, { permissions: ['admin:*'] }, { permissions: ['*:*'] }, { permissions: ['*'] }]) {
    it(`${JSON.stringify(claims)} does not grant admin:delete`, async () => {
      const d = await gate.decide({ method: 'DELETE', path: '/admin/delete', headers: bearer(await token(claims)) });
      assert.deepEqual([d.allow, d.status, d.code], [false, 403, 'AUTH-011']);
    });
  }
  it('a literal token permission and a config role pattern still grant it', async () => {
    for (const claims of [{ permissions: ['admin:delete'] }, { roles: ['ops'] }]) {
      const d = await gate.decide({ method: 'DELETE', path: '/admin/delete', headers: bearer(await token(claims)) });
      assert.equal(d.allow, true, JSON.stringify(claims));
    }
  });
});

describe('finding 8: paths and methods the origin reads differently', () => {
  const routes = [
    { path: '/admin/**', roles: ['admin'] },
    { path: '/reports/**', methods: ['GET'], roles: ['admin'] },
    { path: '/**' },
  ];
  const gate = eg.Gate.create({ providers: [provider], routes }, { env });
  const ci = eg.Gate.create({ providers: [provider], routes, caseInsensitivePaths: true }, { env });

  it('segments ending in "." or a space, and NFKC look-alikes, are refused (AUTH-013)', async () => {
    const user = await token({ roles: ['user'] });
    for (const path of ['/admin./x', '/admin%2e/x', '/admin%20/x', '/admin /x', '/\uff41dmin/x', '/%EF%BD%81dmin/x', '/admin\u00a0/x']) {
      const d = await gate.decide({ method: 'GET', path, headers: bearer(user) });
      assert.deepEqual([d.allow, d.status, d.code, d.detail], [false, 403, 'AUTH-013', 'invalid request path'], path);
    }
    const ok = await gate.decide({ method: 'GET', path: '/files/a.txt', headers: bearer(user) });
    assert.equal(ok.allow, true);
  });

  it('HEAD is matched as GET', async () => {
    const user = await token({ roles: ['user'] });
    const admin = await token({ roles: ['admin'] });
    const d = await gate.decide({ method: 'HEAD', path: '/reports/x', headers: bearer(user) });
    assert.deepEqual([d.allow, d.code], [false, 'AUTH-012']);
    assert.equal((await gate.decide({ method: 'HEAD', path: '/reports/x', headers: bearer(admin) })).allow, true);
  });

  it('caseInsensitivePaths: /ADMIN/x meets the admin rule', async () => {
    const user = await token({ roles: ['user'] });
    const admin = await token({ roles: ['admin'] });
    for (const path of ['/ADMIN/x', '/Admin/x']) {
      const d = await ci.decide({ method: 'GET', path, headers: bearer(user) });
      assert.deepEqual([d.allow, d.code], [false, 'AUTH-012'], path);
      assert.equal((await ci.decide({ method: 'GET', path, headers: bearer(admin) })).allow, true, path);
    }
    // the default is case-sensitive (documented): /ADMIN is another path
    assert.equal((await gate.decide({ method: 'GET', path: '/ADMIN/x', headers: bearer(user) })).allow, true);
  });
});

describe('finding 9: AUTH_ENABLED is exactly "true" or "false"', () => {
  const config = { providers: [provider], routes: [{ path: '/admin/**', roles: ['admin'] }] };
  const bad = ['0', 'no', 'off', ' false', 'FALSE', 'False', '1', 'yes', 'on', 'TRUE', ''];

  it('Gate.create refuses anything else with AUTH-015 naming env.AUTH_ENABLED', () => {
    for (const v of bad) {
      for (const edgegate of [eg, requireEdgegate()]) {
        assert.throws(
          () => edgegate.Gate.create(config, { env: { ...env, AUTH_ENABLED: v } }),
          (e) => e.code === 'AUTH-015' && e.status === 500 && /env\.AUTH_ENABLED/.test(e.message),
          JSON.stringify(v),
        );
      }
    }
    assert.equal(eg.Gate.create(config, { env: { ...env, AUTH_ENABLED: 'true' } }).warnings.length, 0);
    assert.equal(eg.Gate.create(config, { env: { ...env, AUTH_ENABLED: 'false' } }).warnings.length, 1);
  });

  const cfgPath = join(scratchDir, 'sec-rules-config.json');
  writeFileSync(cfgPath, JSON.stringify(config));
  const run = (extraEnv) => runCli(['check', '--config', cfgPath, '--method', 'GET', '--path', '/admin/x', '--format', 'json'], { ...env, ...extraEnv });

  it('the CLI refuses them at start-up (exit 2, AUTH-015), never allows', async () => {
    for (const v of ['0', 'no', 'off', ' false', 'FALSE']) {
      const r = await run({ AUTH_ENABLED: v });
      assert.equal(r.code, 2, `${JSON.stringify(v)}: ${r.stdout} ${r.stderr}`);
      const json = JSON.parse(r.stdout);
      assert.deepEqual([json.allow, json.status, json.code], [false, 500, 'AUTH-015']);
      assert.match(json.error, /env\.AUTH_ENABLED/);
    }
    const on = await run({ AUTH_ENABLED: 'true' });
    assert.deepEqual([on.code, JSON.parse(on.stdout).code], [1, 'AUTH-005']);
  });
});

describe('finding 10: one URL rule, judging the real host', () => {
  const bad = [
    'http://localhost:1@attacker.example/jwks',
    'http://127.0.0.1:@attacker.example/jwks',
    'http://localhost@attacker.example/jwks',
    'https://user:pw@idp.example/jwks',
    'http://localhost.attacker.example/jwks',
    'http://attacker.example/jwks',
  ];

  it('createRemoteJWKSet refuses them (AUTH-015) and never fetches', () => {
    let fetched = 0;
    const fetch = async () => {
      fetched++;
      throw new Error('must not fetch');
    };
    for (const url of bad) {
      assert.throws(() => eg.createRemoteJWKSet(url, { fetch }), (e) => e.code === 'AUTH-015', url);
      assert.throws(() => eg.createRemoteJWKSet(new URL(url), { fetch }), (e) => e.code === 'AUTH-015', url);
    }
    assert.equal(fetched, 0);
    for (const url of ['https://idp.example/jwks', 'http://localhost:8080/jwks', 'http://127.0.0.1/jwks', 'http://[::1]:9000/jwks']) {
      assert.equal(typeof eg.createRemoteJWKSet(url, { fetch }), 'function', url);
    }
  });

  it('Gate config refuses them (AUTH-015 with the field path)', () => {
    for (const url of bad) {
      assert.throws(
        () => eg.Gate.create({ providers: [{ type: 'jwt', issuer: 'https://i.example', jwksUrl: url }] }),
        (e) => e.code === 'AUTH-015' && e.reason === 'providers[0].jwksUrl',
        url,
      );
    }
  });

  it('a discovery jwks_uri with userinfo is never fetched (AUTH-014)', async () => {
    const { privateKey } = await jose.generateKeyPair('RS256');
    const t = await new jose.SignJWT({}).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setIssuer('https://id.example').setSubject('u').setExpirationTime('5m').sign(privateKey);
    for (const jwksUri of ['http://127.0.0.1:@attacker.example/jwks', 'http://localhost:1@attacker.example/jwks']) {
      const urls = [];
      const fetch = async (url) => {
        urls.push(String(url));
        if (String(url).endsWith('/.well-known/openid-configuration')) {
          return new Response(JSON.stringify({ issuer: 'https://id.example', jwks_uri: jwksUri }), { headers: { 'content-type': 'application/json' } });
        }
        return new Response('{"keys": []}', { headers: { 'content-type': 'application/json' } });
      };
      const gate = eg.Gate.create({ providers: [{ type: 'oidc', issuer: 'https://id.example' }], routes: [{ path: '/**' }] }, { fetch });
      const d = await gate.decide({ method: 'GET', path: '/x', headers: bearer(t) });
      assert.deepEqual([d.allow, d.code], [false, 'AUTH-014'], jwksUri);
      assert.deepEqual(urls, ['https://id.example/.well-known/openid-configuration'], jwksUri);
    }
  });
});
