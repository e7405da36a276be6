// Issue 11's acceptance, in the test command: `npx wrangler deploy --dry-run --outdir <dir>`
// builds and bundles the Rust Worker offline (wrangler runs wrangler.toml's [build], i.e.
// scripts/build-worker.sh, skipped when up to date), and the deployable bundle is at most
// 1 MB gzip. EDGEGATE_SKIP_WORKER=1 skips this file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { buildRustWorker, deployDryRun } from '../../scripts/rust-worker-miniflare.mjs';

const skip = process.env.EDGEGATE_SKIP_WORKER === '1';

test('wrangler deploy --dry-run bundles the Rust Worker offline, under 1 MB gzip', { skip, timeout: 1_800_000 }, () => {
  buildRustWorker();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'edgegate-deploy-'));
  try {
    const { raw, gzip } = deployDryRun(dir);
    const files = readdirSync(dir);
    assert.ok(files.some((f) => f.endsWith('.wasm')), `no wasm module in the bundle: ${files.join(', ')}`);
    assert.ok(files.some((f) => /\.m?js$/.test(f)), `no JS entry in the bundle: ${files.join(', ')}`);
    assert.ok(raw > 100 * 1024, `implausibly small bundle: ${raw} bytes`);
    assert.ok(gzip <= 1024 * 1024, `bundle is ${(gzip / 1024).toFixed(1)} KiB gzip, over 1 MB`);
    console.log(`# deployable bundle: ${(raw / 1024).toFixed(1)} KiB, gzip ${(gzip / 1024).toFixed(1)} KiB`);
  } finally {
    if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  }
});
