// Browsers and other ESM runtimes: wasm loaded from next to this file; WebCrypto backend.
import init, * as wasm from '../wasm/web/edgegate.js';
import { setup, type Binding } from './api.js';
import { webHost } from './host.js';

await init();
setup(wasm as unknown as Binding, webHost);

export * from './index.js';
