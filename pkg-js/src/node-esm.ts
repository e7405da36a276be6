// Node ESM entry: the ESM build with the web-target glue instantiated synchronously from
// the wasm file next to it (faster cold import than going through the CommonJS build).
// That wasm (`wasm/node`) holds inspection and verification only: the smaller the wasm, the
// faster `import('edgegate')`. The gate's wasm (the full nodejs build) is loaded, also
// synchronously, the first time `Gate.create` / `createApiKey` needs it.
// The CJS entry (dist/cjs/entry.js) require()s this module where Node can (>= 20.19), so
// both are one instance; on older Node 20 the CJS build is a second instance, and the
// error classes and guards still recognise each other's errors (a brand, not identity).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as wasm from '../wasm/node/edgegate.js';
import { setup, setupGate } from './api.js';
import { withVerifyLane, type LaneBinding } from './lane-node.js';
import { nodeHost } from './host-node.js';
import { setupDefaultEnv } from './gate.js';

const exports = wasm.initSync({ module: readFileSync(new URL('../wasm/node/edgegate_bg.wasm', import.meta.url)) }) as unknown as { memory: WebAssembly.Memory };
setup(withVerifyLane(wasm as unknown as LaneBinding, exports.memory), nodeHost);
setupDefaultEnv(() => process.env);
setupGate(() => createRequire(import.meta.url)('../wasm/nodejs/edgegate.js'));

export * from './index.js';
