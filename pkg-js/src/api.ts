/**
 * The verifier: jose's API (`jwtVerify`, `compactVerify`, `createLocalJWKSet`) over the
 * wasm core. The core parses, selects keys, pins the algorithm and checks claims in ONE
 * call; the host backend only checks RSA/ECDSA/EdDSA signatures natively.
 *
 * By concern: `binding.ts` (the wasm binding and native crypto), `options.ts` (verify
 * options), `keys.ts` (key sets and key functions), `verify.ts` (verification). This module
 * keeps the package's internal surface in one place.
 */
import { InvalidSignatureError, authError, fromCore } from './errors.js';
import { JWKS_DEFAULTS, LIMITS } from './abi.generated.js';
import { w, type CacheStateHandle } from './binding.js';
import { jwksFunction } from './keys.js';

export { setup, wasmBinding, setupGate, gateBinding, type Binding, type KeySetHandle, type OptionsHandle, type CacheStateHandle } from './binding.js';
export { secs, type VerifyOptions, type JWTVerifyOptions } from './options.js';
export { KeySetEntry, KEY_SOURCE, importRemote, createLocalJWKSet, type JWK, type JSONWebKeySet, type JWKSFunction, type KeyLike, type KeySource } from './keys.js';
export { jwtVerify, compactVerify, type JWTVerifyResult, type CompactVerifyResult } from './verify.js';

/** @internal for remote.ts */
export { jwksFunction, authError };

/** @internal The default budgets (for the host's I/O bounds), generated from the core's `Limits`. */
export function defaultLimits(): { maxTokenBytes: number; maxJsonDepth: number; maxKeysPerSet: number; maxJwksBytes: number; maxCandidateKeys: number; maxResponseBytes: number } {
  return { ...LIMITS, maxResponseBytes: LIMITS.maxFetchBodyBytes };
}

/**
 * @internal A host duration option in ms, judged by the core's `Duration` (`Infinity` is
 * "forever"; `NaN`, negative, anything that is not a number: AUTH-015 naming `field`).
 * `undefined` takes `def`.
 */
export function durationOption(v: unknown, def: number, field: string): number {
  if (v === undefined) return def;
  try {
    return w().durationOption(typeof v === 'number' ? v : NaN, field);
  } catch (e) {
    throw fromCore(e, 'AUTH-015');
  }
}

/** @internal The JWKS cache policy defaults (ms), generated from the core's `CachePolicy`. */
export { JWKS_DEFAULTS };

/** @internal The core's URL rule (src/url.rs): `undefined` if `url` may be fetched, else why not. */
export function fetchableUrl(url: string): string | undefined {
  return w().fetchableUrl(url) ?? undefined;
}

/** @internal */
export function cacheState(maxAge: number, cooldown: number, maxStale: number, retryAfterError: number, budget: number): CacheStateHandle {
  return new (w().JwksCacheState)(maxAge, cooldown, maxStale, retryAfterError, budget);
}

export { InvalidSignatureError };
