/** The wasm binding and the runtime's native crypto, wired once by each runtime entry. */
import { NotInitialisedError } from './errors.js';
import { type HostCrypto } from './host.js';
import { setupInspect, type InspectBinding } from './inspect.js';

/* ------------------------------------------------------------------ binding */

/** @internal A wasm key set handle. */
export interface KeySetHandle {
  readonly size: number;
  describe(): string;
  /** jose's key selection, by the core: indices into `describe()`. */
  select(alg: string, kid?: string): Uint32Array;
  free(): void;
}
/** @internal */
export interface OptionsHandle {
  free(): void;
}
/** @internal */
export interface CacheStateHandle {
  decide(now: number, unknownKid: boolean): number;
  fetchSucceeded(now: number, cacheControl?: string | null): void;
  fetchFailed(now: number): void;
  snapshot(): Float64Array;
  restore(fetchedAt: number, freshUntil: number, now: number): boolean;
  usableUntil(): number | undefined;
}
/** @internal What the wasm-bindgen glue exports. */
export interface Binding extends InspectBinding {
  KeySet: {
    fromJwks(json: Uint8Array, remote: boolean): KeySetHandle;
    fromJwk(json: Uint8Array): KeySetHandle;
    fromPem(pem: string): KeySetHandle;
    fromSecret(secret: Uint8Array): KeySetHandle;
  };
  Options: new (json: string) => OptionsHandle;
  JwksCacheState: new (maxAge: number, cooldown: number, maxStale: number, retryAfterError: number, refetchBudget: number) => CacheStateHandle;
  fetchableUrl(url: string): string | undefined;
  verify(token: string, keys: KeySetHandle, options: OptionsHandle, now: number, flags: number): Int32Array;
  takeError(): unknown;
  signatureFailed(): number;
  recheckClaims(token: string, options: OptionsHandle, now: number): boolean;
  durationOption(ms: number, field: string): number;
}

let W: Binding | undefined;
let HOST: HostCrypto | undefined;

/** @internal Wires the wasm binding and the native crypto (done by each runtime entry). */
export function setup(binding: Binding, host: HostCrypto): void {
  W = binding;
  HOST = host;
  setupInspect(binding);
}

/** @internal The raw wasm binding. */
export function wasmBinding(): unknown {
  return w();
}

let GATE_LOADER: (() => unknown) | undefined;
let GATE_BINDING: unknown;

/**
 * @internal For an entry whose wasm leaves the gate out (Node ESM: a smaller wasm is a
 * faster cold import): how to load the binding that holds it, on first use.
 */
export function setupGate(load: () => unknown): void {
  GATE_LOADER = load;
  GATE_BINDING = undefined;
}

/** @internal The binding holding `GateCore` / `createApiKey` (for `gate.ts`). */
export function gateBinding(): unknown {
  if (!GATE_LOADER) return w();
  GATE_BINDING ??= GATE_LOADER();
  return GATE_BINDING;
}

/** @internal The wasm binding (throws before `setup`). */
export function w(): Binding {
  if (!W) throw new NotInitialisedError();
  return W;
}

/** @internal The native crypto adapter of this runtime. */
export function host(): HostCrypto {
  if (!HOST) throw new NotInitialisedError();
  return HOST;
}
