// Shared by the tests that bundle a Worker for workerd (workerd.test.mjs, worker.test.mjs, ...)
// and by benches/worker-bench.mjs.
import { copyFileSync } from 'node:fs';
import path from 'node:path';
import * as esbuild from 'esbuild';

/** esbuild plugin: keep `import x from './y.wasm'` as a separate CompiledWasm module. */
export function wasmModules(outdir) {
  return {
    name: 'wasm-modules',
    setup(build) {
      build.onResolve({ filter: /\.wasm(\?module)?$/ }, (args) => {
        const src = path.resolve(args.resolveDir, args.path.replace(/\?module$/, ''));
        const name = path.basename(src);
        copyFileSync(src, path.join(outdir, name));
        return { path: `./${name}`, external: true };
      });
    },
  };
}

/**
 * Bundles a Worker for workerd as a user's build would (esbuild; the `workerd` / `worker` /
 * `browser` / `import` export conditions; `.wasm` imports kept as CompiledWasm modules) into
 * `outdir/worker.js`. `input`: esbuild's `{ entryPoints }` or `{ stdin }`, plus any other
 * esbuild options (`nodePaths`; `plugins` run after the wasm one).
 */
export async function bundleForWorkerd({ plugins = [], ...input }, outdir) {
  await esbuild.build({
    ...input,
    outfile: path.join(outdir, 'worker.js'),
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    conditions: ['workerd', 'worker', 'browser', 'import'],
    mainFields: ['module', 'main'],
    plugins: [wasmModules(outdir), ...plugins],
    logLevel: 'error',
  });
}
