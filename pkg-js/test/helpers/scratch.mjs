// The scratch project the tests import the packed package from (pkg-js/test/.scratch).
// Other test files (cli, browser, workerd) use these helpers too.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
/** Repository root. */
export const repoRoot = join(here, '..', '..', '..');
/** The scratch project directory. */
export const scratchDir = join(here, '..', '.scratch');
/** Where the tarball is installed: the package as a user gets it. */
export const packageDir = join(scratchDir, 'node_modules', 'edgegate');

/** Installs the newest `edgegate-*.tgz` in the scratch dir (run.mjs calls this once); returns its path. */
export function prepareScratch() {
  const tgz = readdirSync(scratchDir).filter((f) => /^edgegate-.*\.tgz$/.test(f)).sort().pop();
  if (!tgz) throw new Error('no packed tarball in pkg-js/test/.scratch (run `npm test` or scripts/build-js.sh --pack)');
  writeFileSync(join(scratchDir, 'package.json'), JSON.stringify({ name: 'edgegate-scratch', private: true, type: 'module', dependencies: { edgegate: `file:./${tgz}` } }, null, 2));
  // Imports resolved from inside the scratch project (not the repo, whose package.json is
  // `edgegate` itself and would self-resolve to the source tree).
  writeFileSync(join(scratchDir, 'esm.mjs'), "export * from 'edgegate';\n");
  writeFileSync(join(scratchDir, 'browser.mjs'), "export * from 'edgegate/browser';\n");
  writeFileSync(join(scratchDir, 'cjs.cjs'), "module.exports = require('edgegate');\n");
  // npm keeps an installed file: dependency of the same version: always start clean.
  rmSync(join(scratchDir, 'node_modules'), { recursive: true, force: true });
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--no-package-lock', '--loglevel=error', '--offline'], { cwd: scratchDir, stdio: 'inherit' });
  return join(scratchDir, tgz);
}

function check() {
  if (!existsSync(join(packageDir, 'package.json'))) throw new Error('edgegate is not installed in pkg-js/test/.scratch: run `npm test` at the repo root');
}

/** `import('edgegate')` from the scratch project (Node ESM entry). */
export async function importEdgegate() {
  check();
  return import(pathToFileURL(join(scratchDir, 'esm.mjs')).href);
}

/** `require('edgegate')` from the scratch project (Node CJS entry). */
export function requireEdgegate() {
  check();
  return createRequire(join(scratchDir, 'package.json'))('edgegate');
}

/** The installed package's package.json. */
export function installedPackageJson() {
  check();
  return JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'));
}

/**
 * Runs the installed `edgegate` bin as a user's shell would, with only `PATH` and `env` in its
 * environment and `input` on stdin (closed at once when not given); resolves
 * `{ code, stdout, stderr }`.
 */
export function runCli(args, env = {}, input) {
  const bin = join(scratchDir, 'node_modules', '.bin', 'edgegate');
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { env: { PATH: process.env.PATH, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.on('error', () => {});
    child.stdin.end(input ?? '');
  });
}
