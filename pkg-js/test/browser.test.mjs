// Browser test: the token inspector page (examples/inspector) on the packed package's
// `edgegate/browser` entry, in headless Chromium driven by playwright-core.
//
// A node:http server on 127.0.0.1 (random port) serves the page at / and the installed
// tarball at /node_modules/edgegate/, exactly as a user would lay it out. The assertions
// are about what a person sees: claims, countdown, expired state, warnings, errors.
//
// Package under test: $EDGEGATE_TGZ if set, else `npm pack` of the repo root.
// Screenshot: $EDGEGATE_SCREENSHOT (path) if set.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';
import * as jose from 'jose';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PAGE_DIR = path.join(ROOT, 'examples/inspector');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

// A fixed "now" for the page (playwright clock) and for the tokens.
const NOW_S = 1_893_456_000; // 2030-01-01T00:00:00Z
const NOW_MS = NOW_S * 1000;

let work;
let pkgDir;
let server;
let base;
let browser;

/** Installs the packed tarball into a scratch project; returns node_modules/edgegate. */
function installPackage() {
  work = mkdtempSync(path.join(os.tmpdir(), 'eg-browser-'));
  let tgz = process.env.EDGEGATE_TGZ;
  if (!tgz) {
    const out = execFileSync('npm', ['pack', '--json', '--pack-destination', work], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    tgz = path.join(work, JSON.parse(out)[0].filename);
  }
  const proj = path.join(work, 'app');
  execFileSync('mkdir', ['-p', proj]);
  writeFileSync(path.join(proj, 'package.json'), '{"name":"eg-browser-app","private":true}');
  execFileSync('npm', ['install', '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--ignore-scripts', tgz], {
    cwd: proj,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return path.join(proj, 'node_modules/edgegate');
}

/** The file `exports["./browser"]` points at for a browser, relative to the package. */
function browserEntry(pkg) {
  let e = pkg.exports?.['./browser'];
  for (let i = 0; i < 5 && e && typeof e === 'object'; i++) e = e.browser ?? e.import ?? e.default;
  assert.equal(typeof e, 'string', 'package.json exports["./browser"] resolves to a file for a browser');
  return e.replace(/^\.\//, '');
}

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.map': 'application/json',
};

function serveFile(res, baseDir, rel) {
  const file = path.resolve(baseDir, rel);
  if (!file.startsWith(baseDir + path.sep) || !existsSync(file) || !statSync(file).isFile()) {
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found');
    return;
  }
  res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
  res.end(readFileSync(file));
}

async function token(claims, header = {}) {
  const key = new TextEncoder().encode('a-test-secret-that-is-32-bytes!!');
  return new jose.SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: 'k1', ...header }).sign(key);
}

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} exists (scripts/setup.sh installs it)`);
  pkgDir = installPackage();
  server = createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const p = decodeURIComponent(url.pathname);
    if (p.startsWith('/node_modules/edgegate/')) return serveFile(res, pkgDir, p.slice('/node_modules/edgegate/'.length));
    return serveFile(res, PAGE_DIR, p === '/' ? 'index.html' : p.slice(1));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${server.address().port}`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

after(async () => {
  await browser?.close();
  await new Promise((r) => (server ? server.close(r) : r()));
  if (work) rmSync(work, { recursive: true, force: true });
});

/** A fresh page at the fixed clock, with page errors and failed requests collected. */
async function openPage() {
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  page.setDefaultTimeout(5000);
  const problems = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
  page.on('requestfailed', (r) => problems.push(`requestfailed: ${r.url()}`));
  page.on('response', (r) => r.status() >= 400 && problems.push(`${r.status()}: ${r.url()}`));
  const loaded = [];
  page.on('request', (r) => loaded.push(new URL(r.url()).pathname));
  // time stands still at NOW_MS unless a test advances it with clock.runFor
  await page.clock.install({ time: NOW_MS - 5000 });
  await page.clock.pauseAt(NOW_MS);
  await page.goto(base + '/');
  await page.waitForFunction(() => document.body.dataset.ready, null, { timeout: 15000 });
  return { page, problems, loaded };
}

const paste = (page, text) => page.fill('#token', text);
const text = (page, sel) => page.locator(sel).innerText();

test('the import map in index.html points at the package browser entry', () => {
  const pkg = JSON.parse(readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
  const entry = browserEntry(pkg);
  const html = readFileSync(path.join(PAGE_DIR, 'index.html'), 'utf8');
  const map = JSON.parse(html.match(/<script type="importmap">([\s\S]*?)<\/script>/)[1]);
  assert.equal(map.imports['edgegate/browser'], `./node_modules/edgegate/${entry}`);
  assert.ok(existsSync(path.join(pkgDir, entry)), `${entry} is in the tarball`);
});

test('a valid token: UNVERIFIED marker, claims, header and a live countdown', async () => {
  const { page, problems } = await openPage();
  try {
    assert.equal(await page.locator('body').getAttribute('data-ready'), 'true', 'edgegate/browser loaded');
    const jwt = await token({
      iss: 'https://auth.example.com/',
      sub: 'user-42',
      aud: 'orders-api',
      email: 'ada@example.com',
      roles: ['admin', 'viewer'],
      iat: NOW_S - 60,
      exp: NOW_S + 300,
    });
    await paste(page, jwt);
    await page.locator('#result').waitFor({ state: 'visible' });

    assert.equal(await page.locator('#unverified').isVisible(), true);
    assert.match(await text(page, '#unverified'), /UNVERIFIED/);
    assert.equal(await page.locator('#error').isVisible(), false);

    const table = await text(page, '#claims-table');
    assert.match(table, /sub\s+user-42/);
    assert.match(table, /email\s+ada@example\.com/);
    assert.match(table, /roles\s+\["admin","viewer"\]/);
    assert.match(table, /exp\s+1893456300\s+\(2030-01-01T00:05:00\.000Z\)/);
    const header = JSON.parse(await text(page, '#header'));
    assert.deepEqual(header, { alg: 'HS256', typ: 'JWT', kid: 'k1' });
    assert.equal(JSON.parse(await text(page, '#claims')).sub, 'user-42');

    assert.match(await text(page, '#expiry'), /^expires in 5m 0s \(2030-01-01T00:05:00\.000Z\)$/);
    assert.equal(await page.locator('#expiry').getAttribute('class'), 'expiry valid');
    if (process.env.EDGEGATE_SCREENSHOT) await page.screenshot({ path: process.env.EDGEGATE_SCREENSHOT, fullPage: true });

    // the countdown ticks: 61 s later
    await page.clock.runFor(61_000);
    assert.match(await text(page, '#expiry'), /^expires in 3m 59s/);
    // and turns into the expired state when exp passes
    await page.clock.runFor(240_000);
    assert.match(await text(page, '#expiry'), /^EXPIRED 1s ago/);

    assert.deepEqual(problems, []);
  } finally {
    await page.close();
  }
});

test('an expired token is shown as expired, with how long ago', async () => {
  const { page, problems } = await openPage();
  try {
    await paste(page, await token({ sub: 'old', exp: NOW_S - 125, iat: NOW_S - 3725 }));
    await page.locator('#result').waitFor({ state: 'visible' });
    assert.match(await text(page, '#expiry'), /^EXPIRED 2m 5s ago \(2029-12-31T23:57:55\.000Z\)$/);
    assert.equal(await page.locator('#expiry').getAttribute('class'), 'expiry expired');
    assert.match(await text(page, '#unverified'), /UNVERIFIED/);
    assert.deepEqual(problems, []);
  } finally {
    await page.close();
  }
});

test('not-yet-valid and no-exp tokens, and the warnings the package gives', async () => {
  const { page, problems } = await openPage();
  try {
    await paste(page, await token({ sub: 'early', nbf: NOW_S + 90, exp: NOW_S + 3600 }));
    await page.locator('#result').waitFor({ state: 'visible' });
    assert.match(await text(page, '#expiry'), /^not yet valid: becomes valid in 1m 30s$/);

    await paste(page, await token({ sub: 'forever' }));
    assert.match(await text(page, '#expiry'), /^no expiry/);
    const warnings = await page.locator('#warnings li').allInnerTexts();
    assert.ok(warnings.length >= 1, `a token without exp gets a warning (got ${JSON.stringify(warnings)})`);
    assert.ok(warnings.some((w) => /exp/i.test(w)), `the warning mentions exp: ${JSON.stringify(warnings)}`);
    assert.deepEqual(problems, []);
  } finally {
    await page.close();
  }
});

test('garbage input shows an error, not claims', async () => {
  const { page, problems } = await openPage();
  try {
    for (const bad of ['hello world', 'a.b', 'eyJhbGciOiJIUzI1NiJ9.!!!.sig', 'e30.e30.']) {
      await paste(page, bad);
      await page.locator('#error').waitFor({ state: 'visible' });
      const err = await text(page, '#error');
      assert.match(err, /^Not a readable token: /, `error shown for ${JSON.stringify(bad)}`);
      assert.match(err, /AUTH-00[16]/, `error carries the code for ${JSON.stringify(bad)}: ${err}`);
      assert.ok(!err.includes(bad) || bad.length < 4, 'the error does not echo the token');
      assert.equal(await page.locator('#result').isVisible(), false);
    }
    // a good token after garbage clears the error
    await paste(page, await token({ sub: 'back', exp: NOW_S + 60 }));
    await page.locator('#result').waitFor({ state: 'visible' });
    assert.equal(await page.locator('#error').isVisible(), false);
    assert.match(await text(page, '#expiry'), /^expires in 1m 0s/);
    assert.deepEqual(problems, []);
  } finally {
    await page.close();
  }
});

test('claims are rendered as text, never as HTML', async () => {
  const { page, problems } = await openPage();
  try {
    await page.evaluate(() => (window.__pwned = false));
    const evil = '<img src=x onerror="window.__pwned=true">';
    await paste(page, await token({ sub: evil, name: '<b>bold</b>', exp: NOW_S + 60 }));
    await page.locator('#result').waitFor({ state: 'visible' });
    assert.match(await text(page, '#claims-table'), /sub\s+<img src=x onerror="window.__pwned=true">/);
    assert.equal(await page.locator('#result img, #result b').count(), 0);
    await page.clock.runFor(1000);
    assert.equal(await page.evaluate(() => window.__pwned), false);
    assert.deepEqual(problems, []);
  } finally {
    await page.close();
  }
});

test('the page only loads the browser entry, not the verifier', async () => {
  const { page, loaded } = await openPage();
  try {
    await paste(page, await token({ sub: 'x', exp: NOW_S + 60 }));
    await page.locator('#result').waitFor({ state: 'visible' });
    const eg = loaded.filter((u) => u.startsWith('/node_modules/edgegate/'));
    assert.ok(eg.length >= 1, 'the browser entry was fetched');
    const files = readdirSync(pkgDir, { recursive: true }).map(String);
    const wasm = files.filter((f) => f.endsWith('.wasm'));
    const loadedWasm = eg.filter((u) => u.endsWith('.wasm'));
    // at most one wasm file, and not the biggest one in the package when there are several
    if (wasm.length > 1 && loadedWasm.length) {
      const size = (f) => statSync(path.join(pkgDir, f)).size;
      const biggest = wasm.sort((a, b) => size(b) - size(a))[0];
      assert.ok(!loadedWasm.some((u) => u.endsWith('/' + biggest)), `browser page loaded ${biggest}, the verifier's wasm`);
    }
    assert.ok(loadedWasm.length <= 1, `loaded wasm: ${loadedWasm}`);
  } finally {
    await page.close();
  }
});
