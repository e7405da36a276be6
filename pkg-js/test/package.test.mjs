// The packed package as a user gets it: exports map, files allowlist, types (tsc --noEmit
// on TS files importing it), the inspect-only wasm of `edgegate/browser`.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { installedPackageJson, packageDir, repoRoot, scratchDir } from './helpers/scratch.mjs';

function walk(dir, out = []) {
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) walk(p, out);
    else out.push(relative(packageDir, p));
  }
  return out;
}

describe('package shape', () => {
  it('exports: types first, then workerd, browser, node, import/require; every target exists', () => {
    const pkg = installedPackageJson();
    const dot = pkg.exports['.'];
    assert.deepEqual(Object.keys(dot), ['types', 'workerd', 'browser', 'node', 'import', 'require']);
    assert.deepEqual(Object.keys(dot.node), ['import', 'require']);
    assert.equal(Object.keys(pkg.exports['./browser'])[0], 'types');
    assert.deepEqual(Object.keys(dot.types), ['import', 'require']);
    const targets = [dot.types.import, dot.types.require, dot.workerd, dot.browser, dot.node.import, dot.node.require, dot.import, dot.require, ...Object.values(pkg.exports['./browser'])];
    for (const t of targets) assert.ok(existsSync(join(packageDir, t)), t);
  });

  it('files allowlist: only dist, package.json, README; no sources, tests or maps of secrets', () => {
    const files = walk(packageDir);
    for (const f of files) assert.match(f, /^(package\.json|README\.md|LICENSE|pkg-js\/dist\/)/, f);
    assert.ok(!files.some((f) => f.includes('/src/') || f.includes('/test/') || f.endsWith('.tgz') || f.endsWith('.rs')));
    // One wasm per build: full (nodejs + web), verify-only (node: the Node ESM default) and inspect-only.
    assert.deepEqual(files.filter((f) => f.endsWith('.wasm')).sort(), [
      'pkg-js/dist/wasm/inspect/edgegate_bg.wasm',
      'pkg-js/dist/wasm/node/edgegate_bg.wasm',
      'pkg-js/dist/wasm/nodejs/edgegate_bg.wasm',
      'pkg-js/dist/wasm/web/edgegate_bg.wasm',
    ]);
  });

  it('the browser entry pulls no node: modules and a small wasm', () => {
    const src = readFileSync(join(packageDir, 'pkg-js/dist/esm/browser.js'), 'utf8') + readFileSync(join(packageDir, 'pkg-js/dist/esm/inspect.js'), 'utf8') + readFileSync(join(packageDir, 'pkg-js/dist/esm/errors.js'), 'utf8');
    assert.ok(!/from ['"]node:/.test(src));
    const size = statSync(join(packageDir, 'pkg-js/dist/wasm/inspect/edgegate_bg.wasm')).size;
    assert.ok(size < 200 * 1024, `inspect wasm is ${size} bytes`);
  });

  it('the inspect-only wasm works (web glue, initSync)', async () => {
    const glue = await import(pathToFileURL(join(packageDir, 'pkg-js/dist/wasm/inspect/edgegate.js')).href);
    glue.initSync({ module: readFileSync(join(packageDir, 'pkg-js/dist/wasm/inspect/edgegate_bg.wasm')) });
    const token = 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.';
    const i = JSON.parse(glue.inspectToken(token, 0));
    assert.equal(i.verified, false);
    assert.equal(i.claims.sub, 'x');
    assert.equal(typeof glue.verify, 'undefined', 'the verifier is not in the inspect build');
  });

  it('the full web glue instantiates synchronously (what the workerd entry does)', async () => {
    const glue = await import(pathToFileURL(join(packageDir, 'pkg-js/dist/wasm/web/edgegate.js')).href);
    glue.initSync({ module: new WebAssembly.Module(readFileSync(join(packageDir, 'pkg-js/dist/wasm/web/edgegate_bg.wasm'))) });
    assert.equal(typeof glue.verify, 'function');
    assert.throws(() => glue.decodeToken('nope'), (e) => e.code === 'AUTH-006');
  });
});

describe('Node cold import: the default wasm leaves the gate out', () => {
  const wasmFile = (d) => join(packageDir, `pkg-js/dist/wasm/${d}/edgegate_bg.wasm`);
  const exportsOf = (d) => WebAssembly.Module.exports(new WebAssembly.Module(readFileSync(wasmFile(d)))).map((e) => e.name);

  it('the verify-only wasm exports the verifier and no gate symbols; the full one has both', () => {
    const node = exportsOf('node');
    const full = exportsOf('web');
    assert.ok(node.includes('verify') && node.includes('decodeToken'), 'verifier in the node wasm');
    assert.ok(full.some((n) => n.startsWith('gatecore_')) && full.includes('createApiKey'), 'gate in the full wasm');
    assert.deepEqual(node.filter((n) => n.startsWith('gatecore_') || n === 'createApiKey'), []);
    const [small, big] = [statSync(wasmFile('node')).size, statSync(wasmFile('web')).size];
    assert.ok(small < big * 0.85, `node wasm ${small} bytes vs full ${big}`);
  });

  it('the verify-only web glue instantiates synchronously and has no GateCore', async () => {
    const glue = await import(pathToFileURL(join(packageDir, 'pkg-js/dist/wasm/node/edgegate.js')).href);
    glue.initSync({ module: readFileSync(wasmFile('node')) });
    assert.equal(typeof glue.verify, 'function');
    assert.equal(typeof glue.GateCore, 'undefined');
    assert.equal(typeof glue.createApiKey, 'undefined');
    assert.throws(() => glue.decodeToken('nope'), (e) => e.code === 'AUTH-006');
  });

  it('the Node ESM entry is one file: only node: builtins imported, no relative modules', () => {
    const src = readFileSync(join(packageDir, 'pkg-js/dist/esm/node-esm.js'), 'utf8');
    const specs = [...src.matchAll(/^import\s[^;]*?from\s*["']([^"']+)["']/gm)].map((m) => m[1]);
    assert.ok(specs.length > 0, 'found the imports');
    assert.deepEqual(specs.filter((s) => !s.startsWith('node:')), []);
    assert.match(src, /wasm\/node\/edgegate_bg\.wasm/);
  });

  it('import(edgegate) in a fresh process loads the gate wasm only when the gate is first used', () => {
    const probe = `
      import { createRequire } from 'node:module';
      const cache = createRequire(import.meta.url).cache;
      const gateLoaded = () => Object.keys(cache).some((k) => /wasm[\\/]nodejs[\\/]edgegate\.js$/.test(k));
      const eg = await import('edgegate');
      const before = gateLoaded();
      const { key, record } = eg.createApiKey({ account: 'acct', expiresAt: Math.floor(Date.now() / 1000) + 3600 });
      const gate = eg.Gate.create({ routes: [{ path: '/health', public: true }] });
      const d = await gate.decide({ method: 'GET', path: '/health' });
      process.stdout.write(JSON.stringify({ before, after: gateLoaded(), key: key.startsWith('egk_'), account: record.account, allow: d.allow }));`;
    const out = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', probe], { cwd: scratchDir, encoding: 'utf8' }));
    assert.deepEqual(out, { before: false, after: true, key: true, account: 'acct', allow: true });
  });
});

describe('types', () => {
  it('tsc --noEmit accepts ESM and CJS TypeScript users', () => {
    const dir = join(scratchDir, 'ts');
    execFileSync('mkdir', ['-p', dir]);
    writeFileSync(join(dir, 'use.mts'), `
import { jwtVerify, compactVerify, createRemoteJWKSet, createLocalJWKSet, decodeJwt, decodeProtectedHeader, inspectToken,
  isAuthError, isTokenError, TokenExpiredError, JwksFetchError, type JWTVerifyResult, type TokenInspection, type ErrorCode } from 'edgegate';
import { inspectToken as inspectInBrowser } from 'edgegate/browser';
const JWKS = createRemoteJWKSet(new URL('https://idp.example/jwks'), { cacheMaxAge: 600_000, cooldownDuration: 30_000, timeoutDuration: 5000, maxStale: 3_600_000,
  headers: { 'x-a': 'b' }, persist: { load: async () => undefined, save: async () => {} } });
export async function check(token: string): Promise<string | undefined> {
  try {
    const r: JWTVerifyResult<{ scope: string }> = await jwtVerify<{ scope: string }>(token, JWKS, { issuer: 'i', audience: ['a'], clockTolerance: '30s', maxTokenAge: 60, requiredClaims: ['sub'], typ: 'at+jwt', algorithms: ['RS256'], currentDate: new Date(), cache: { max: 100 } });
    const s: string = r.payload.scope;
    const c = await compactVerify(token, createLocalJWKSet({ keys: [] }), { backend: 'wasm' });
    const bytes: Uint8Array = c.payload;
    const i: TokenInspection = inspectToken(token);
    const j = inspectInBrowser(token);
    return s + bytes.length + i.expiresIn + j.warnings.join() + decodeJwt(token).sub + decodeProtectedHeader(token).alg;
  } catch (e) {
    if (e instanceof TokenExpiredError) { const code: ErrorCode = e.code; return code + e.status; }
    if (isTokenError(e)) return e.code;
    if (e instanceof JwksFetchError || isAuthError(e)) return e.claim;
    throw e;
  }
}
`);
    writeFileSync(join(dir, 'use.cts'), `
import eg = require('edgegate');
export async function check(token: string) {
  const { payload } = await eg.jwtVerify(token, new Uint8Array(32), { issuer: 'i' });
  return payload.sub;
}
`);
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'node16', moduleResolution: 'node16', target: 'es2022', strict: true, noEmit: true, skipLibCheck: false, lib: ['es2022', 'dom'], types: [] }, files: ['use.mts', 'use.cts'] }));
    const tsc = join(repoRoot, 'node_modules', '.bin', 'tsc');
    try {
      execFileSync(tsc, ['-p', dir], { cwd: dir, encoding: 'utf8' });
    } catch (e) {
      assert.fail(`tsc failed:\n${e.stdout}${e.stderr}`);
    }
  });

  it('every runtime export has a declaration', () => {
    const cjs = createRequire(join(scratchDir, 'package.json'))('edgegate');
    const dts = readdirSync(join(packageDir, 'pkg-js/dist/types')).map((f) => readFileSync(join(packageDir, 'pkg-js/dist/types', f), 'utf8')).join('\n');
    for (const name of Object.keys(cjs)) assert.match(dts, new RegExp(`export ((declare )?(function|class|const)|\\* as) ${name}\\b`), name);
  });
});
