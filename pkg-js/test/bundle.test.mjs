// Production-bundle test: a tiny app importing `edgegate/browser` and `edgegate` from the
// packed tarball, built with `vite build` (production: tree shaking on, package.json
// `sideEffects` honoured), served on 127.0.0.1 and loaded in headless Chromium.
//
// Regression for issue 9: with `"sideEffects": false` the bundler dropped the entries'
// top-level `await init()` and every call threw `wasm not initialised`.
//
// Package under test: $EDGEGATE_TGZ if set (run.mjs sets it), else `npm pack` of the repo root.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';
import * as jose from 'jose';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

let work;
let outDir;
let server;
let base;
let browser;

const MAIN_JS = `
import { decodeJwt, inspectToken } from 'edgegate/browser';
import { jwtVerify, createLocalJWKSet, decodeProtectedHeader, errors, isAuthError } from 'edgegate';

window.edgegateCheck = async (token, jwk, secretJwk, hsToken) => {
  const out = {};
  out.claims = decodeJwt(token);
  out.header = decodeProtectedHeader(token);
  const i = inspectToken(token);
  out.inspect = { verified: i.verified, sub: i.claims && i.claims.sub };
  const es = await jwtVerify(token, createLocalJWKSet({ keys: [jwk] }), { issuer: 'https://idp.example', audience: 'api' });
  out.es = es.payload.sub;
  const hs = await jwtVerify(hsToken, secretJwk, { issuer: 'https://idp.example' });
  out.hs = hs.payload.sub;
  try {
    await jwtVerify(token, createLocalJWKSet({ keys: [jwk] }), { issuer: 'https://other.example' });
    out.wrongIssuer = 'accepted';
  } catch (e) {
    out.wrongIssuer = { code: e.code, auth: isAuthError(e), jose: e instanceof errors.JWTClaimValidationFailed, claim: e.claim };
  }
  return out;
};
document.body.dataset.ready = 'true';
`;

function installApp() {
  work = mkdtempSync(path.join(os.tmpdir(), 'eg-bundle-'));
  let tgz = process.env.EDGEGATE_TGZ;
  if (!tgz) {
    const out = execFileSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    tgz = path.join(work, JSON.parse(out)[0].filename);
  }
  const proj = path.join(work, 'app');
  mkdirSync(proj, { recursive: true });
  writeFileSync(path.join(proj, 'package.json'), JSON.stringify({ name: 'eg-bundle-app', private: true, type: 'module' }));
  execFileSync('npm', ['install', '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--ignore-scripts', '--offline', tgz], {
    cwd: proj,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  writeFileSync(
    path.join(proj, 'index.html'),
    '<!doctype html><html><head><meta charset="utf-8"><title>eg</title><link rel="icon" href="data:,"></head><body><script type="module" src="./main.js"></script></body></html>\n',
  );
  writeFileSync(path.join(proj, 'main.js'), MAIN_JS);
  return proj;
}

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.wasm': 'application/wasm', '.css': 'text/css' };

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} exists (scripts/setup.sh installs it)`);
  const proj = installApp();
  outDir = path.join(work, 'dist');
  const { build } = await import('vite');
  await build({ root: proj, configFile: false, logLevel: 'warn', mode: 'production', build: { outDir, emptyOutDir: true, minify: true } });
  server = createServer((req, res) => {
    const p = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const file = path.resolve(outDir, p === '/' ? 'index.html' : p.slice(1));
    if (!file.startsWith(outDir + path.sep) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404);
      return res.end('not found');
    }
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${server.address().port}`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  await new Promise((r) => (server ? server.close(r) : r()));
  if (work) rmSync(work, { recursive: true, force: true });
});

test('vite build emitted the wasm files as assets', () => {
  const assets = readdirSync(path.join(outDir, 'assets'));
  assert.ok(assets.some((f) => f.endsWith('.wasm')), `a .wasm asset in ${assets.join(', ')}`);
});

test('production bundle: decodeJwt / inspectToken / jwtVerify work in Chromium', async () => {
  const { publicKey, privateKey } = await jose.generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await jose.exportJWK(publicKey)), kid: 'k1', alg: 'ES256' };
  const now = Math.floor(Date.now() / 1000);
  const token = await new jose.SignJWT({ sub: 'user-1' })
    .setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: 'JWT' })
    .setIssuer('https://idp.example')
    .setAudience('api')
    .setIssuedAt(now)
    .setExpirationTime(now + 300)
    .sign(privateKey);
  const secret = new TextEncoder().encode('a-test-secret-that-is-32-bytes!!');
  const secretJwk = { kty: 'oct', k: jose.base64url.encode(secret), alg: 'HS256' };
  const hsToken = await new jose.SignJWT({ sub: 'user-2' }).setProtectedHeader({ alg: 'HS256' }).setIssuer('https://idp.example').setExpirationTime(now + 300).sign(secret);

  const page = await browser.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
  page.on('response', (r) => r.status() >= 400 && problems.push(`${r.status()}: ${r.url()}`));
  try {
    await page.goto(base + '/');
    await page.waitForFunction(() => document.body.dataset.ready, null, { timeout: 15000 });
    const out = await page.evaluate(([t, k, s, h]) => window.edgegateCheck(t, k, s, h), [token, jwk, secretJwk, hsToken]);
    assert.equal(out.claims.sub, 'user-1');
    assert.equal(out.header.alg, 'ES256');
    assert.deepEqual(out.inspect, { verified: false, sub: 'user-1' });
    assert.equal(out.es, 'user-1');
    assert.equal(out.hs, 'user-2');
    assert.equal(out.wrongIssuer.code, 'AUTH-001');
    assert.equal(out.wrongIssuer.auth, true);
    assert.equal(out.wrongIssuer.jose, true, 'instanceof errors.JWTClaimValidationFailed in the bundle');
    assert.equal(out.wrongIssuer.claim, 'iss');
    assert.deepEqual(problems, []);
  } finally {
    await page.close();
  }
});

test('an uninitialised core is a setup error (AUTH-015), not a token error', async () => {
  // The package's inspection module loaded without its entry: nothing initialised the wasm.
  const { packageDir } = await import('./helpers/scratch.mjs');
  const inspect = await import(path.join(packageDir, 'pkg-js/dist/esm/inspect.js'));
  const errs = await import(path.join(packageDir, 'pkg-js/dist/esm/errors.js'));
  assert.throws(
    () => inspect.decodeJwt('a.b.c'),
    (e) => {
      assert.equal(e.code, 'AUTH-015');
      assert.equal(e.name, 'NotInitialisedError');
      assert.ok(e instanceof errs.ConfigError);
      assert.equal(errs.isTokenError(e), false);
      assert.match(e.message, /wasm not initialised/);
      assert.match(e.message, /sideEffects/);
      return true;
    },
  );
});

test('package.json lists the entries with top-level initialisation in sideEffects', () => {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  assert.ok(Array.isArray(pkg.sideEffects), 'sideEffects is a list, not false');
  for (const f of ['./pkg-js/dist/esm/web.js', './pkg-js/dist/esm/browser.js', './pkg-js/dist/esm/workerd.js']) assert.ok(pkg.sideEffects.includes(f), f);
});
