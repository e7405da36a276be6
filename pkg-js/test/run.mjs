// `npm test`: builds and packs the package, installs the tarball into a scratch project
// (pkg-js/test/.scratch, gitignored) as a user would, then runs every JS test
// (pkg-js/test/*.test.mjs: this package's, the CLI's, the browser and workerd tests) with
// node's test runner against that installed copy.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareScratch } from './helpers/scratch.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');

if (!process.env.EDGEGATE_SKIP_BUILD) {
  const b = spawnSync('bash', [join(root, 'scripts', 'build-js.sh'), '--pack', join(here, '.scratch')], { stdio: 'inherit' });
  if (b.status !== 0) {
    console.log('# build failed');
    console.log('# pass 0');
    console.log('# fail 1');
    process.exit(1);
  }
}
const tgz = prepareScratch();
// Other test files (browser, workerd) find the tarball through this variable.
process.env.EDGEGATE_TGZ = tgz;

const only = process.argv.slice(2);
const files = (only.length ? only : readdirSync(here).filter((f) => f.endsWith('.test.mjs') || f.endsWith('.test.cjs')).sort().map((f) => join(here, f))).filter((f) => existsSync(f));
const r = spawnSync(process.execPath, ['--test', '--test-reporter=tap', ...files], { stdio: 'inherit', cwd: root, env: process.env });
process.exit(r.status ?? 1);
