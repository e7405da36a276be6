// Shared by the tests that bundle a Worker for workerd (workerd.test.mjs, worker.test.mjs).
import { copyFileSync } from 'node:fs';
import path from 'node:path';

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
