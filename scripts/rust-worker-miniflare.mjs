// The built Rust Worker (build/, scripts/build-worker.sh) as Miniflare runs it: the module
// layout worker-build emits and the bindings wrangler.toml declares (local KV namespaces and
// SQLite-backed Durable Objects). Shared by the demo, the soak and the Worker's tests, so they
// all start the Worker users deploy, the same way.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const BUILD = path.join(ROOT, 'build');
/** wrangler.toml `compatibility_date`. */
export const COMPATIBILITY_DATE = '2025-09-01';

/** The Worker's script, without bindings: for a `workers: [...]` setup that wires its own. */
export function rustWorkerScript() {
  return {
    modules: true,
    scriptPath: path.join(BUILD, 'index.js'),
    modulesRoot: BUILD,
    modulesRules: [
      { type: 'ESModule', include: ['**/*.js', '**/*.mjs'] },
      { type: 'CompiledWasm', include: ['**/*.wasm'] },
    ],
    compatibilityDate: COMPATIBILITY_DATE,
  };
}

/**
 * Miniflare options for the Rust Worker with every binding of wrangler.toml: `bindings` are
 * its vars and secrets (`ORIGIN_URL`, `EDGEGATE_CONFIG`, ...); `logs`, when given, collects
 * `"<level>: <message>"` lines; `extra` is merged last (`host`, `port`, ...).
 */
export function rustWorkerOptions({ bindings = {}, logs = null, ...extra } = {}) {
  return {
    ...rustWorkerScript(),
    cf: false,
    kvNamespaces: ['EDGEGATE_KV', 'EDGEGATE_RATELIMIT_KV'],
    durableObjects: {
      REVOCATIONS: { className: 'Revocations', useSQLite: true },
      RATE_LIMITER: { className: 'RateLimiter', useSQLite: true },
    },
    bindings,
    handleStructuredLogs: ({ level, message }) => {
      logs?.push(`${level}: ${message}`);
    },
    ...extra,
  };
}

/**
 * Builds the Worker (scripts/build-worker.sh: skipped when build/ is newer than the sources)
 * and checks that the module and its wasm are there; throws otherwise.
 */
export function buildRustWorker() {
  const b = spawnSync('bash', [path.join(ROOT, 'scripts', 'build-worker.sh')], { stdio: ['ignore', 'inherit', 'inherit'], timeout: 1_500_000 });
  if (b.status !== 0) throw new Error('scripts/build-worker.sh failed');
  for (const f of ['index.js', 'index_bg.wasm']) {
    if (!existsSync(path.join(BUILD, f))) throw new Error(`scripts/build-worker.sh left no build/${f}`);
  }
}

/**
 * `wrangler deploy --dry-run --outdir <outdir>` (offline: wrangler runs the project's build and
 * bundles, nothing is uploaded), then the bundle's size: `{ raw, gzip }` in bytes over every
 * file but source maps (gzip -9 per file). Throws when wrangler fails.
 */
export function deployDryRun(outdir) {
  execFileSync(path.join(ROOT, 'node_modules', '.bin', 'wrangler'), ['deploy', '--dry-run', '--outdir', outdir], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
  });
  let raw = 0;
  let gzip = 0;
  const walk = (d) => {
    for (const f of readdirSync(d)) {
      const p = path.join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (!f.endsWith('.map')) {
        const b = readFileSync(p);
        raw += b.length;
        gzip += gzipSync(b, { level: 9 }).length;
      }
    }
  };
  walk(outdir);
  return { raw, gzip };
}

/**
 * Waits, when needed, until the current `windowMs` window (aligned to the Unix epoch, as the
 * core's fixed and sliding windows are) has at least `needMs` left. A burst that must all
 * land in one window (N allowed, then 429) would otherwise straddle a boundary now and then
 * and see two windows' quota: right for the limiter, wrong for the check. The Worker reads
 * the real clock, so the test cannot set it.
 */
export async function clearOfWindowEdge(windowMs = 60_000, needMs = 5_000) {
  const left = windowMs - (Date.now() % windowMs);
  if (left < needMs) await new Promise((r) => setTimeout(r, left + 50));
}
