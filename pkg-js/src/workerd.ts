// Cloudflare Workers / workerd: the wasm module is imported (compiled by the runtime at
// deploy time) and instantiated synchronously; WebCrypto backend.
import wasmModule from '../wasm/web/edgegate_bg.wasm';
import { initSync } from '../wasm/web/edgegate.js';
import * as wasm from '../wasm/web/edgegate.js';
import { setup, type Binding } from './api.js';
import { webHost } from './host.js';

initSync({ module: wasmModule });
setup(wasm as unknown as Binding, webHost);

export * from './index.js';
