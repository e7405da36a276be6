// workerd test: the packed tarball, imported from a Worker running in workerd (Miniflare 4).
//
// The Worker (workerd.worker.mjs) is bundled with esbuild using the `workerd` / `worker` /
// `browser` export conditions, its .wasm imports kept as CompiledWasm modules (workerd
// cannot compile wasm from bytes at run time). It verifies tokens made by jose (RS256 through
// the WebCrypto backend, HS256) and the test asserts allow / deny and the error codes.
//
// Package under test: $EDGEGATE_TGZ if set, else `npm pack` of the repo root.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import * as jose from 'jose';
import { Miniflare } from 'miniflare';
import { bundleForWorkerd } from './helpers/workerd.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const ISSUER = 'https://issuer.example.com/';
const AUDIENCE = 'orders-api';

/** Installs the packed tarball into `dir`/app; returns the app directory. */
function installPackage(dir) {
  let tgz = process.env.EDGEGATE_TGZ;
  if (!tgz) {
    const out = execFileSync('npm', ['pack', '--json', '--pack-destination', dir], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    tgz = path.join(dir, JSON.parse(out)[0].filename);
  }
  const app = path.join(dir, 'app');
  mkdirSync(app, { recursive: true });
  writeFileSync(path.join(app, 'package.json'), '{"name":"eg-workerd-app","private":true,"type":"module"}');
  execFileSync('npm', ['install', '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--ignore-scripts', tgz], {
    cwd: app,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return app;
}

async function bundleWorker(app) {
  const out = path.join(app, 'dist');
  mkdirSync(out, { recursive: true });
  copyFileSync(path.join(HERE, 'workerd.worker.mjs'), path.join(app, 'worker.mjs'));
  await bundleForWorkerd({ entryPoints: [path.join(app, 'worker.mjs')] }, out);
  return out;
}

async function tokens() {
  const rs = await jose.generateKeyPair('RS256', { extractable: true });
  const other = await jose.generateKeyPair('RS256', { extractable: true });
  const secret = new TextEncoder().encode('workerd-test-secret-32-bytes-long!!');
  const rsJwk = { ...(await jose.exportJWK(rs.publicKey)), kid: 'rs-1', alg: 'RS256', use: 'sig' };
  const hsJwk = { kty: 'oct', k: jose.base64url.encode(secret), kid: 'hs-1', alg: 'HS256', use: 'sig' };
  const now = Math.floor(Date.now() / 1000);
  const make = (claims, { alg = 'RS256', kid = 'rs-1', key = rs.privateKey, iss = ISSUER, aud = AUDIENCE, exp = now + 600 } = {}) =>
    new jose.SignJWT(claims)
      .setProtectedHeader({ alg, kid, typ: 'JWT' })
      .setIssuer(iss)
      .setAudience(aud)
      .setIssuedAt(now - 5)
      .setExpirationTime(exp)
      .sign(key);
  const rsGood = await make({ sub: 'user-rs' });
  const [h, p, s] = rsGood.split('.');
  const forgedPayload = jose.base64url.encode(JSON.stringify({ ...jose.decodeJwt(rsGood), sub: 'admin' }));
  const pem = await jose.exportSPKI(rs.publicKey);
  return {
    rsJwks: { keys: [rsJwk] },
    hsJwks: { keys: [hsJwk] },
    rsGood,
    hsGood: await make({ sub: 'user-hs' }, { alg: 'HS256', kid: 'hs-1', key: secret }),
    rsExpired: await make({ sub: 'late' }, { exp: now - 3600 }),
    hsExpired: await make({ sub: 'late' }, { alg: 'HS256', kid: 'hs-1', key: secret, exp: now - 3600 }),
    rsTampered: `${h}.${forgedPayload}.${s}`,
    rsOtherKey: await make({ sub: 'user-rs' }, { key: other.privateKey }),
    hsWrongSecret: await make({ sub: 'user-hs' }, { alg: 'HS256', kid: 'hs-1', key: new TextEncoder().encode('x'.repeat(32)) }),
    rsWrongIss: await make({ sub: 'user-rs' }, { iss: 'https://evil.example.com/' }),
    rsWrongAud: await make({ sub: 'user-rs' }, { aud: 'another-api' }),
    hsUnknownKid: await make({ sub: 'user-hs' }, { alg: 'HS256', kid: 'nope', key: secret }),
    // alg confusion: HS256 signed with the RSA public key (PEM) as the HMAC secret
    confused: await make({ sub: 'admin' }, { alg: 'HS256', kid: 'rs-1', key: new TextEncoder().encode(pem) }),
    none: `${jose.base64url.encode('{"alg":"none","typ":"JWT","kid":"rs-1"}')}.${p}.`,
  };
}

test('edgegate in workerd (Miniflare), the packed tarball', { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'eg-workerd-'));
  let mf;
  try {
    const app = installPackage(dir);
    const out = await bundleWorker(app);
    const tk = await tokens();
    mf = new Miniflare({
      modules: true,
      scriptPath: path.join(out, 'worker.js'),
      modulesRoot: out,
      modulesRules: [
        { type: 'ESModule', include: ['**/*.js', '**/*.mjs'] },
        { type: 'CompiledWasm', include: ['**/*.wasm'] },
      ],
      compatibilityDate: '2025-09-01',
      cf: false,
      bindings: { RS_JWKS: tk.rsJwks, HS_JWKS: tk.hsJwks, ISSUER, AUDIENCE },
    });
    const verify = async (token, alg, keys, backend) => {
      const res = await mf.dispatchFetch('http://edgegate.test/verify', {
        method: 'POST',
        body: JSON.stringify({ token, alg, keys, backend }),
      });
      const body = await res.text();
      assert.equal(res.status, 200, `worker answered ${res.status}: ${body.slice(0, 500)}`);
      return JSON.parse(body);
    };
    const denied = async (token, alg, code, status, keys, backend) => {
      const r = await verify(token, alg, keys, backend);
      assert.equal(r.ok, false, `denied: ${JSON.stringify(r)}`);
      assert.equal(r.code, code, `code for ${JSON.stringify(r)}`);
      assert.equal(r.status, status);
      assert.equal(r.isError, true, 'an Error subclass');
      assert.ok(!r.message.includes(token.split('.')[2] || token), 'the message does not echo the token');
    };

    await t.test('the bundle keeps the wasm as a separate module', () => {
      const files = readdirSync(out);
      assert.ok(files.includes('worker.js'));
      assert.ok(files.some((f) => f.endsWith('.wasm')), `wasm module next to the bundle: ${files}`);
    });

    await t.test('RS256 (WebCrypto) token from jose: allowed', async () => {
      assert.deepEqual(await verify(tk.rsGood, 'RS256'), { ok: true, sub: 'user-rs', alg: 'RS256' });
    });
    await t.test('HS256 token from jose: allowed', async () => {
      assert.deepEqual(await verify(tk.hsGood, 'HS256'), { ok: true, sub: 'user-hs', alg: 'HS256' });
    });
    await t.test('expired: AUTH-002', async () => {
      await denied(tk.rsExpired, 'RS256', 'AUTH-002', 401);
      await denied(tk.hsExpired, 'HS256', 'AUTH-002', 401);
    });
    await t.test('bad signature: AUTH-004', async () => {
      await denied(tk.rsTampered, 'RS256', 'AUTH-004', 401);
      await denied(tk.rsOtherKey, 'RS256', 'AUTH-004', 401);
      await denied(tk.hsWrongSecret, 'HS256', 'AUTH-004', 401);
    });
    await t.test('wrong issuer / audience, unknown kid: AUTH-001', async () => {
      await denied(tk.rsWrongIss, 'RS256', 'AUTH-001', 401);
      await denied(tk.rsWrongAud, 'RS256', 'AUTH-001', 401);
      await denied(tk.hsUnknownKid, 'HS256', 'AUTH-001', 401);
    });
    await t.test('alg confusion and alg none: AUTH-001', async () => {
      // HS256 token against the RS256 allowlist, and against an RSA key set with HS256 allowed
      await denied(tk.confused, 'RS256', 'AUTH-001', 401);
      await denied(tk.confused, 'HS256', 'AUTH-001', 401, 'RS256');
      await denied(tk.none, 'RS256', 'AUTH-001', 401);
    });
    await t.test('garbage: AUTH-006', async () => {
      await denied('not-a-token', 'RS256', 'AUTH-006', 401);
      await denied('a.b.c', 'RS256', 'AUTH-006', 401);
    });
    await t.test("the pure-Rust backend (backend: 'wasm') gives the same answers in workerd", async () => {
      assert.deepEqual(await verify(tk.rsGood, 'RS256', undefined, 'wasm'), { ok: true, sub: 'user-rs', alg: 'RS256' });
      await denied(tk.rsTampered, 'RS256', 'AUTH-004', 401, undefined, 'wasm');
      await denied(tk.rsOtherKey, 'RS256', 'AUTH-004', 401, undefined, 'wasm');
      await denied(tk.rsExpired, 'RS256', 'AUTH-002', 401, undefined, 'wasm');
    });
    await t.test('the good tokens still pass after the failures (no poisoned state)', async () => {
      assert.equal((await verify(tk.rsGood, 'RS256')).ok, true);
      assert.equal((await verify(tk.hsGood, 'HS256')).ok, true);
    });
  } finally {
    await mf?.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});
