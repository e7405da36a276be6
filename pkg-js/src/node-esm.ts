// Node ESM entry: the ESM build with the web-target glue instantiated synchronously from
// the wasm file next to it (faster cold import than going through the CommonJS build).
// A process that loads both the ESM and the CJS entry gets two instances; the error
// classes and guards recognise each other's errors (a brand, not identity).
import { readFileSync } from 'node:fs';
import * as wasm from '../wasm/web/edgegate.js';
import { setup, type Binding } from './api.js';
import { nodeHost } from './host-node.js';

wasm.initSync({ module: readFileSync(new URL('../wasm/web/edgegate_bg.wasm', import.meta.url)) });
setup(wasm as unknown as Binding, nodeHost);

export * from './index.js';
