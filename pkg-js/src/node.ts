// Node entry (CommonJS build; the ESM entry re-exports this one, so there is one instance).
import * as wasm from '../wasm/nodejs/edgegate.js';
import { setup, type Binding } from './api.js';
import { nodeHost } from './host-node.js';
import { setupDefaultEnv } from './gate.js';

setup(wasm as unknown as Binding, nodeHost);
setupDefaultEnv(() => process.env);

export * from './index.js';
