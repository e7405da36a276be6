// The `edgegate` CLI commands of issue 12, run as a subprocess from the installed tarball:
// exit codes and output.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as jose from 'jose';
import { scratchDir } from './helpers/scratch.mjs';
import { runCli as run } from './helpers/scratch.mjs';

const SECRET = 'cli-node-test-secret-with-at-least-32-bytes';
const dir = mkdtempSync(join(tmpdir(), 'edgegate-cli-'));


const token = (claims = {}, exp = '10m') =>
  new jose.SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setIssuer('https://issuer.example').setSubject('user-1').setExpirationTime(exp).sign(new TextEncoder().encode(SECRET));

describe('edgegate CLI (issue 12 commands)', () => {
  it('--help lists every command with examples; --version; no colours off a TTY', async () => {
    const r = await run(['--help']);
    assert.equal(r.code, 0);
    for (const c of ['providers', 'inspect', 'validate', 'check', 'config validate', 'apikey create', 'token sign', 'exit codes']) assert.ok(r.stdout.includes(c), c);
    assert.ok(!r.stdout.includes('\x1b['));
    assert.equal((await run(['-h'])).code, 0);
    assert.match((await run(['--version'])).stdout, /^\d+\.\d+\.\d+/);
    assert.equal((await run(['nope'])).code, 2);
  });

  it('providers --format json: the 11 presets from the core, with aliases, fields and env vars', async () => {
    const r = await run(['providers', '--format=json']);
    assert.equal(r.code, 0);
    const list = JSON.parse(r.stdout);
    assert.equal(list.length, 11);
    const auth0 = list.find((p) => p.type === 'auth0');
    assert.deepEqual(auth0.aliases, ['auth0-jwt', 'auth0-oauth']);
    assert.ok(auth0.env.includes('AUTH0_DOMAIN'));
    assert.ok(auth0.fields.find((f) => f.name === 'domain').required);
    const t = await run(['providers', '--format', 'table']);
    assert.equal(t.code, 0);
    assert.match(t.stdout, /cognito .*COGNITO_REGION, AWS_REGION/);
  });

  it('inspect: header and claims, expiry, from argv, stdin or an env var', async () => {
    const tok = await token({ roles: ['a'] });
    const j = await run(['inspect', '--format', 'json', '--token-env', 'T'], { T: tok });
    assert.equal(j.code, 0);
    const o = JSON.parse(j.stdout);
    assert.equal(o.header.alg, 'HS256');
    assert.equal(o.claims.sub, 'user-1');
    assert.ok(o.expiresIn > 500);
    const s = await run(['inspect'], {}, tok + '\n');
    assert.equal(s.code, 0);
    assert.match(s.stdout, /expiry: in \d+s/);
    assert.equal((await run(['inspect', 'not-a-token'])).code, 1);
  });

  it('validate --provider jwt: settings from flags and the environment', async () => {
    const tok = await token({ roles: ['admin'] });
    const ok = await run(['validate', '--provider', 'jwt', '--issuer', 'https://issuer.example', '--format', 'json', '--token-env', 'T'], { T: tok, JWT_SECRET: SECRET });
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(JSON.parse(ok.stdout).identity.sub, 'user-1');
    const envOnly = await run(['validate', '--provider', 'jwt-auth', '-'], { JWT_SECRET: SECRET, JWT_ISSUER: 'https://issuer.example' }, tok);
    assert.equal(envOnly.code, 0, envOnly.stderr);
    assert.match(envOnly.stdout, /valid: sub=user-1/);
    const bad = await run(['validate', '--provider', 'jwt', '--issuer', 'https://issuer.example', tok], { JWT_SECRET: 'another-secret-of-at-least-32-bytes!!' });
    assert.equal(bad.code, 1);
    assert.ok(!bad.stdout.includes(tok) && !bad.stderr.includes(tok));
    assert.equal((await run(['validate', tok])).code, 2);
  });

  it('config validate: field paths, JSON errors with line and column', async () => {
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify({ providers: [{ type: 'jwt', issuer: 'https://i', secret: SECRET }], routes: [{ path: '/**' }] }));
    assert.equal((await run(['config', 'validate', good])).code, 0);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ providers: [{ type: 'jwt', issuer: 'https://i', secret: SECRET }], routes: [{ path: '/**', roles: 'x' }] }));
    const r = await run(['config', 'validate', bad, '--format', 'json']);
    assert.equal(r.code, 1);
    assert.equal(JSON.parse(r.stdout).errors[0].path, 'routes[0].roles');
    const syntax = join(dir, 'syntax.json');
    writeFileSync(syntax, '{\n  "routes": [\n    {"path": "/x",}\n  ]\n}\n');
    const s = await run(['config', 'validate', syntax]);
    assert.equal(s.code, 1);
    assert.match(s.stdout, /line 3, column \d+/);
  });

  it('apikey create | list | revoke against a file store, with the wrangler line', async () => {
    const store = join(dir, 'keys.json');
    const c = await run(['apikey', 'create', '--account', 'acme', '--role', 'deployer', '--days', '30', '--store', store, '--format', 'json']);
    assert.equal(c.code, 0, c.stderr);
    const o = JSON.parse(c.stdout);
    assert.match(o.key, /^egk_/);
    assert.match(o.wrangler, /^wrangler kv key put --binding=EDGEGATE_KV "apikey:/);
    const saved = readFileSync(store, 'utf8');
    assert.ok(!saved.includes(o.key), 'the secret is not stored');
    const l = await run(['apikey', 'list', '--store', store, '--format', 'json']);
    assert.equal(JSON.parse(l.stdout)[0].id, o.record.id);
    assert.equal((await run(['apikey', 'revoke', o.record.id, '--store', store])).code, 0);
    assert.equal(JSON.parse(readFileSync(store, 'utf8')).keys[0].revoked, true);
    assert.equal((await run(['apikey', 'revoke', 'nope', '--store', store])).code, 1);
  });

  it('token sign (development only) makes a token the gate accepts', async () => {
    const r = await run(['token', 'sign', '--sub', 'dev', '--issuer', 'https://issuer.example', '--role', 'admin'], { JWT_SECRET: SECRET });
    assert.equal(r.code, 0, r.stderr);
    const { payload } = await jose.jwtVerify(r.stdout.trim(), new TextEncoder().encode(SECRET), { issuer: 'https://issuer.example' });
    assert.deepEqual([payload.sub, payload.roles], ['dev', ['admin']]);
    assert.equal((await run(['token', 'sign', '--sub', 'dev', '--issuer', 'https://i'], { JWT_SECRET: SECRET, NODE_ENV: 'production' })).code, 2);
    assert.equal((await run(['token', 'sign', '--sub', 'dev', '--issuer', 'https://i'])).code, 2);
  });

  it('check still works with --flag=value', async () => {
    const cfg = join(dir, 'check.json');
    writeFileSync(cfg, JSON.stringify({ providers: [{ type: 'jwt', issuer: 'https://issuer.example' }], routes: [{ path: '/**' }] }));
    const r = await run(['check', `--config=${cfg}`, '--method=GET', '--path=/x', '--token-env=T', '--format=json'], { T: await token(), JWT_SECRET: SECRET });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).identity.sub, 'user-1');
  });
});
