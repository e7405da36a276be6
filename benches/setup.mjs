// Installs the edgegate package the way users get it: `npm pack` of the repo root (or
// $EDGEGATE_TGZ), then `npm install <tarball>` into benches/node_modules (not saved).
// Builds the package first (scripts/build-js.sh) when its dist is missing.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });

const tmp = mkdtempSync(path.join(os.tmpdir(), 'eg-bench-pack-'));
try {
  let tgz = process.env.EDGEGATE_TGZ;
  if (!tgz) {
    if (!existsSync(path.join(ROOT, 'pkg-js/dist')) && existsSync(path.join(ROOT, 'scripts/build-js.sh'))) {
      process.stderr.write('bench setup: building the package (scripts/build-js.sh)\n');
      execFileSync('bash', ['scripts/build-js.sh'], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
    }
    const out = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', tmp], ROOT));
    tgz = path.join(tmp, out[0].filename);
  }
  run('npm', ['install', '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--ignore-scripts', tgz], HERE);
  process.stderr.write(`bench setup: installed ${path.basename(tgz)} into benches/node_modules/edgegate\n`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
