// Node ESM entry: the ESM build with the web-target glue instantiated synchronously from
// the wasm file next to it (faster cold import than going through the CommonJS build).
// The CJS entry (dist/cjs/entry.js) require()s this module where Node can (>= 20.19), so
// both are one instance; on older Node 20 the CJS build is a second instance, and the
// error classes and guards still recognise each other's errors (a brand, not identity).
import { readFileSync } from 'node:fs';
import * as wasm from '../wasm/web/edgegate.js';
import { setup, type Binding } from './api.js';
import { nodeHost } from './host-node.js';

wasm.initSync({ module: readFileSync(new URL('../wasm/web/edgegate_bg.wasm', import.meta.url)) });
setup(wasm as unknown as Binding, nodeHost);

export * from './index.js';
