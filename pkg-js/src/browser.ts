// `edgegate/browser`: token inspection only (a small wasm build without the verifier).
// Nothing here verifies a token: every result is marked unverified.
import init, * as wasm from '../wasm/inspect/edgegate.js';
import { setupInspect } from './inspect.js';

await init();
setupInspect(wasm);

export { decodeJwt, decodeProtectedHeader, inspectToken, type JWTPayload, type ProtectedHeaderParameters, type TokenInspection, type InspectOptions } from './inspect.js';
export * from './errors.js';
export * as errors from './jose-errors.js';
