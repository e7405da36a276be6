// The `edgegate` CLI from the installed tarball: `edgegate check ...` over examples/gate.json
// and over a config whose keys come from a JWKS server (node:http on 127.0.0.1).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as jose from 'jose';
import { installedPackageJson, packageDir, repoRoot, scratchDir } from './helpers/scratch.mjs';
import { runCli as run } from './helpers/scratch.mjs';

const SECRET = 'cli-test-secret-with-at-least-32-bytes!';
const EXAMPLE = join(repoRoot, 'examples', 'gate.json');


async function check(args, env = { JWT_SECRET: SECRET }) {
  const r = await run(['check', '--config', EXAMPLE, '--format', 'json', ...args], env);
  let json;
  try {
    json = JSON.parse(r.stdout);
  } catch {
    assert.fail(`not JSON: ${r.stdout} / ${r.stderr}`);
  }
  return { ...r, json };
}

function hs256(claims, exp = '10m') {
  return new jose.SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer('https://issuer.example')
    .setAudience('api')
    .setSubject('user-1')
    .setIssuedAt()
    .setExpirationTime(exp)
    .sign(new TextEncoder().encode(SECRET));
}

describe('edgegate CLI (installed bin)', () => {
  it('is declared as a bin of the package, which ships the config schema', () => {
    const pkg = installedPackageJson();
    assert.equal(pkg.bin.edgegate, 'pkg-js/dist/cjs/cli.js');
    assert.equal(pkg.exports['./config.schema.json'], './pkg-js/dist/config.schema.json');
    const schema = JSON.parse(readFileSync(join(packageDir, 'pkg-js', 'dist', 'config.schema.json'), 'utf8'));
    assert.deepEqual(schema, JSON.parse(readFileSync(join(repoRoot, 'schema', 'config.schema.json'), 'utf8')));
    assert.equal(schema.title, 'edgegate gate configuration');
  });

  it('GET /health is public', async () => {
    const r = await check(['--method', 'GET', '--path', '/health']);
    assert.equal(r.code, 0);
    assert.deepEqual({ allow: r.json.allow, status: r.json.status, code: r.json.code, identity: r.json.identity }, { allow: true, status: 200, code: null, identity: null });
  });

  it('a protected route without a token is AUTH-005, exit 1', async () => {
    const r = await check(['--method', 'GET', '--path', '/api/things']);
    assert.equal(r.code, 1);
    assert.deepEqual([r.json.allow, r.json.status, r.json.code], [false, 401, 'AUTH-005']);
  });

  it('a valid token passes /api/** with its identity', async () => {
    const token = await hs256({ roles: ['reader'] });
    const r = await check(['--method', 'GET', '--path', '/api/things', '--token', token]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.allow, true);
    assert.equal(r.json.code, null);
    assert.equal(r.json.identity.sub, 'user-1');
    assert.equal(r.json.identity.provider, 'jwt');
    assert.deepEqual(r.json.identity.roles, ['reader']);
    assert.ok(!r.stdout.includes(token), 'the token is never printed');
  });

  it('/admin/** needs the admin role', async () => {
    const user = await hs256({ roles: ['reader'] });
    const denied = await check(['--method', 'POST', '--path', '/admin/users', '--token', user]);
    assert.equal(denied.code, 1);
    assert.deepEqual([denied.json.status, denied.json.code], [403, 'AUTH-012']);
    const admin = await hs256({ roles: ['admin'] });
    const ok = await check(['--method', 'POST', '--path', '/admin/users', '--token', admin]);
    assert.equal(ok.code, 0);
    // path tricks do not reach /api/** rules
    const trick = await check(['--method', 'GET', '--path', '/api/%2e%2e/admin/users', '--token', user]);
    assert.equal(trick.json.code, 'AUTH-012');
  });

  it('everything else is denied, and token failures have their codes', async () => {
    const other = await check(['--method', 'GET', '--path', '/elsewhere', '--token', await hs256({})]);
    assert.deepEqual([other.code, other.json.status, other.json.code], [1, 403, 'AUTH-013']);
    const expired = await hs256({}, Math.floor(Date.now() / 1000) - 3600);
    assert.equal((await check(['--method', 'GET', '--path', '/api/x', '--token', expired])).json.code, 'AUTH-002');
    const wrongKey = await new jose.SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setIssuer('https://issuer.example').setAudience('api').setSubject('x').setExpirationTime('5m').sign(new TextEncoder().encode('another-secret-with-at-least-32-bytes!!'));
    assert.equal((await check(['--method', 'GET', '--path', '/api/x', '--token', wrongKey])).json.code, 'AUTH-004');
    assert.equal((await check(['--method', 'GET', '--path', '/api/x', '--token', 'garbage'])).json.code, 'AUTH-006');
    const viaHeader = await check(['--method', 'GET', '--path', '/api/x', '--header', `Authorization: Bearer ${await hs256({})}`]);
    assert.equal(viaHeader.code, 0);
  });

  it('text output and AUTH_ENABLED=false', async () => {
    const r = await run(['check', '--config', EXAMPLE, '--method', 'GET', '--path', '/admin/x'], { JWT_SECRET: SECRET });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^deny 401 AUTH-005/);
    const off = await run(['check', '--config', EXAMPLE, '--method', 'GET', '--path', '/admin/x'], { JWT_SECRET: SECRET, AUTH_ENABLED: 'false' });
    assert.equal(off.code, 0);
    assert.match(off.stdout, /^allow disabled/);
    assert.match(off.stderr, /WARNING: AUTHENTICATION IS DISABLED/);
  });

  it('usage and configuration errors exit 2', async () => {
    assert.equal((await run([])).code, 2);
    assert.equal((await run(['check', '--method', 'GET'])).code, 2);
    assert.equal((await run(['check', '--config', EXAMPLE, '--method', 'GET', '--path', '/x', '--bogus', '1'])).code, 2);
    const noSecret = await run(['check', '--config', EXAMPLE, '--method', 'GET', '--path', '/health']);
    assert.equal(noSecret.code, 2);
    assert.match(noSecret.stderr, /providers\[0\]\.secret: environment variable JWT_SECRET is not set/);
    const dir = mkdtempSync(join(tmpdir(), 'edgegate-cli-'));
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ routes: [{ path: '/x', roles: 'admin' }] }));
    const r = await run(['check', '--config', bad, '--method', 'GET', '--path', '/x', '--format', 'json']);
    assert.equal(r.code, 2);
    assert.equal(JSON.parse(r.stdout).code, 'AUTH-015');
    assert.match(JSON.parse(r.stdout).error, /routes\[0\]\.roles: expected array of strings/);
    assert.equal((await run(['check', '--config', join(dir, 'missing.json'), '--method', 'GET', '--path', '/x'])).code, 2);
  });
});

describe('edgegate CLI with a remote JWKS', () => {
  let server;
  let hits = 0;
  let jwks;
  let key;
  let config;
  before(async () => {
    const { publicKey, privateKey } = await jose.generateKeyPair('ES256', { extractable: true });
    key = privateKey;
    jwks = { keys: [{ ...(await jose.exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' }] };
    server = createServer((req, res) => {
      hits++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(jwks));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const dir = mkdtempSync(join(tmpdir(), 'edgegate-cli-'));
    config = join(dir, 'remote.json');
    writeFileSync(
      config,
      JSON.stringify({
        providers: [{ type: 'oidc', name: 'idp', issuer: 'https://idp.example', audience: 'api', jwksUrl: `http://127.0.0.1:${server.address().port}/jwks` }],
        routes: [{ path: '/reports/**', permissions: ['reports:read'] }],
      }),
    );
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it('fetches the JWKS the core asks for and decides', async () => {
    const sign = (scope) =>
      new jose.SignJWT({ scope }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer('https://idp.example').setAudience('api').setSubject('svc').setExpirationTime('5m').sign(key);
    const ok = await run(['check', '--config', config, '--method', 'GET', '--path', '/reports/q3', '--token', await sign('reports:read'), '--format', 'json']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(JSON.parse(ok.stdout).identity.sub, 'svc');
    assert.ok(hits >= 1);
    const no = await run(['check', '--config', config, '--method', 'GET', '--path', '/reports/q3', '--token', await sign('other'), '--format', 'json']);
    assert.equal(no.code, 1);
    assert.deepEqual([JSON.parse(no.stdout).status, JSON.parse(no.stdout).code], [403, 'AUTH-011']);
  });
});
