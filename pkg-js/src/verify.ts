/** `jwtVerify` and `compactVerify`: one wasm call, and the native signature check on the
 * candidates the core picked. */
import { InvalidTokenError, TokenDecodeError, fromCore, type AuthError } from './errors.js';
import { ALGS, F_HOST, F_JWT, R_ALG, R_CODE, R_HEAD, R_NCAND, R_NO_KEY, R_STATUS, ST_ERR, ST_OK } from './abi.generated.js';
import { host as hostCrypto, w } from './binding.js';
import { type AsymAlg } from './host.js';
import { asString, type JWTPayload, type ProtectedHeaderParameters } from './inspect.js';
import { NO_KEY, sourceOf, type CacheEntry, type KeyLike, type KeySetEntry, type KeySource } from './keys.js';
import { compileOptions, EMPTY_OPTIONS, type CompiledOptions, type JWTVerifyOptions, type VerifyOptions } from './options.js';

/** `jwtVerify`'s result. */
export interface JWTVerifyResult<P = JWTPayload> {
  payload: P & JWTPayload;
  protectedHeader: ProtectedHeaderParameters & { alg: string };
}

/** `compactVerify`'s result. */
export interface CompactVerifyResult {
  payload: Uint8Array;
  protectedHeader: ProtectedHeaderParameters & { alg: string };
}

/* ------------------------------------------------------------------ verify */

function takeError(token?: string): AuthError {
  const e = fromCore(w().takeError());
  // jose puts the claims on a claim error (`payload`); a claim error comes only after the
  // signature verified.
  if (token !== undefined && e.claim !== undefined && e.payload === undefined) e.payload = claimsOf(token);
  return e;
}

/** A claim error's `payload` (jose has it): the claims set, or undefined if it does not parse. */
function claimsOf(token: string): Record<string, unknown> | undefined {
  try {
    return parseSegment(token, 1);
  } catch {
    return undefined;
  }
}

function headerFn(token: string): () => ProtectedHeaderParameters {
  return () => {
    const i = token.indexOf('.');
    try {
      return JSON.parse(hostCrypto().decodeText(token.slice(0, i < 0 ? token.length : i)));
    } catch {
      throw new TokenDecodeError('header is not a valid JSON object');
    }
  };
}

type Maybe<T> = T | Promise<T>;

/** A source that never refetches (the retry after an unknown-kid refresh happens once). */
const NO_RETRY: KeySource = { current: () => Promise.reject(new InvalidTokenError(NO_KEY)) };

/**
 * One wasm call (and, for RSA/ECDSA/EdDSA with the native backend, the host signature
 * check). Synchronous whenever it can be (Node, keys at hand): no promise on the hot path.
 * Returns the key set that verified the token, or throws an `AuthError`.
 */
function verifyOn(token: string, source: KeySource, ks: KeySetEntry, opts: CompiledOptions, now: number, flags: number): Maybe<KeySetEntry> {
  const r = w().verify(token, ks.handle, opts.handle, now, flags);
  if (r[R_STATUS] === ST_OK) return ks;
  if (r[R_STATUS] === ST_ERR) {
    if (r[R_NO_KEY] === 1 && source.unknownKid) {
      // No key for this kid/alg: maybe the IdP rotated. The core's cache policy decides
      // whether a refetch is allowed now (cooldown, budget).
      w().takeError();
      return source.unknownKid().then((fresh) => {
        if (!fresh || fresh === ks) throw new InvalidTokenError(`${NO_KEY} the token's kid and alg`);
        return verifyOn(token, NO_RETRY, fresh, opts, now, flags);
      });
    }
    throw takeError(token);
  }
  const h = hostCheck(r, token, ks);
  if (typeof h === 'number') return ks;
  if (h instanceof Promise) return h.then(() => ks);
  throw h;
}

function verifyWith(token: string, source: KeySource, opts: CompiledOptions, now: number, flags: number): Maybe<KeySetEntry> {
  const ks = source.current(headerFn(token));
  if (ks instanceof Promise) return ks.then((k) => verifyOn(token, source, k, opts, now, flags));
  return verifyOn(token, source, ks, opts, now, flags);
}

function hostCheck(r: Int32Array, token: string, ks: KeySetEntry): number | Promise<number> | AuthError {
  const host = hostCrypto();
  const alg = ALGS[r[R_ALG]] as AsymAlg;
  const last = token.lastIndexOf('.');
  const input = token.slice(0, last);
  const sig = token.slice(last + 1);
  const claimCode = r[R_CODE];
  const n = r[R_NCAND];
  const finish = (ok: boolean): number => {
    if (!ok) {
      w().signatureFailed();
      throw takeError();
    }
    if (claimCode !== 0) throw takeError(token);
    return r[R_ALG];
  };
  if (host.name === 'node') {
    for (let i = 0; i < n; i++) {
      const key = ks.nativeKey(host, r[R_HEAD + i], alg);
      if (key && host.verify(alg, key, input, sig) === true) {
        try {
          return finish(true);
        } catch (e) {
          return e as AuthError;
        }
      }
    }
    try {
      return finish(false);
    } catch (e) {
      return e as AuthError;
    }
  }
  return (async () => {
    for (let i = 0; i < n; i++) {
      const key = await ks.nativeKey(host, r[R_HEAD + i], alg);
      if (key && (await host.verify(alg, key, input, sig))) return finish(true);
    }
    return finish(false);
  })();
}

/**
 * The instant to verify at, in unix seconds, for the core (`UnixTime`): no sanitising here.
 * An invalid `Date` (or anything that is not a date) reaches the core as `NaN`, which it
 * refuses (AUTH-015): a bad clock never means 1970.
 */
function epoch(o: JWTVerifyOptions): number {
  const d = o.currentDate as unknown;
  if (d === undefined || d === null) return Date.now() / 1000;
  const t = typeof (d as Date).getTime === 'function' ? (d as Date).getTime() : NaN;
  return typeof t === 'number' ? t / 1000 : NaN;
}

function parseSegment(token: string, which: 0 | 1): Record<string, unknown> {
  const a = token.indexOf('.');
  if (which === 0) return parseHeader(token.slice(0, a));
  return JSON.parse(hostCrypto().decodeText(token.slice(a + 1, token.indexOf('.', a + 1))));
}

/** Protected headers repeat (same alg/kid/typ): parsed once per distinct segment, frozen. */
const headers = new Map<string, Record<string, unknown>>();
const HEADERS_MAX = 256;

function parseHeader(seg: string): Record<string, unknown> {
  let h = headers.get(seg);
  if (h === undefined) {
    h = deepFreeze(JSON.parse(hostCrypto().decodeText(seg)) as Record<string, unknown>);
    if (headers.size >= HEADERS_MAX) {
      const first = headers.keys().next().value;
      if (first !== undefined) headers.delete(first);
    }
    headers.set(seg, h);
  }
  return h;
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o as object)) deepFreeze(v);
  }
  return o;
}

function cacheFor(ks: KeySetEntry, opts: CompiledOptions, max: number): Map<string, CacheEntry> {
  ks.caches ??= new Map();
  let c = ks.caches.get(opts.key);
  if (!c) {
    c = new Map();
    ks.caches.set(opts.key, c);
  }
  (c as Map<string, CacheEntry> & { max?: number }).max = max;
  return c;
}

function jwtResult<P>(token: string): JWTVerifyResult<P> {
  return { payload: parseSegment(token, 1), protectedHeader: parseSegment(token, 0) } as unknown as JWTVerifyResult<P>;
}

/**
 * The opt-in verified-token cache: entries per key set (the one that verified), per
 * compiled options, per token. A hit is served only when the core says the claim checks
 * still pass at `now` (`recheckClaims`: exp, nbf, maxTokenAge, iat; an unusable `now`
 * throws): it never serves what a fresh check would refuse. Tokens without `exp` are not
 * cached.
 */
function cachedVerify<P>(token: string, source: KeySource, opts: CompiledOptions, now: number, flags: number, max: number): Maybe<JWTVerifyResult<P>> {
  const run = (ks: KeySetEntry): Maybe<JWTVerifyResult<P>> => {
    const c = cacheFor(ks, opts, max);
    const hit = c.get(token);
    if (hit) {
      c.delete(token);
      let valid: boolean;
      try {
        valid = w().recheckClaims(token, opts.handle, now);
      } catch (e) {
        throw fromCore(e, 'AUTH-015');
      }
      if (valid) {
        c.set(token, hit);
        return hit.result as JWTVerifyResult<P>;
      }
    }
    const store = (used: KeySetEntry): JWTVerifyResult<P> => {
      const result = deepFreeze(jwtResult<P>(token));
      if (typeof (result.payload as JWTPayload).exp === 'number') {
        const target = cacheFor(used, opts, max);
        target.set(token, { result: result as JWTVerifyResult });
        while (target.size > max) {
          const first = target.keys().next().value;
          if (first === undefined) break;
          target.delete(first);
        }
      }
      return result;
    };
    const used = verifyOn(token, source, ks, opts, now, flags);
    return used instanceof Promise ? used.then(store) : store(used);
  };
  const ks = source.current(headerFn(token));
  return ks instanceof Promise ? ks.then(run) : run(ks);
}

function promise<T>(f: () => Maybe<T>): Promise<T> {
  try {
    const v = f();
    return v instanceof Promise ? v : Promise.resolve(v);
  } catch (e) {
    return Promise.reject(e);
  }
}

/**
 * Verifies a JWT: signature (native or wasm), then every claim check (jose's `jwtVerify`).
 * Rejects with an `AuthError` subclass with `.code` (`AUTH-0xx`) and `.status`.
 */
export function jwtVerify<P = JWTPayload>(jwt: string | Uint8Array, key: KeyLike, options: JWTVerifyOptions = EMPTY_OPTIONS): Promise<JWTVerifyResult<P>> {
  return promise(() => {
    const token = asString(jwt);
    const opts = compileOptions(options);
    const now = epoch(options);
    const flags = options.backend === 'wasm' ? F_JWT : F_JWT | F_HOST;
    const source = sourceOf(key);
    const max = options.cache?.max ?? 0;
    if (max > 0) return cachedVerify<P>(token, source, opts, now, flags, max);
    const v = verifyWith(token, source, opts, now, flags);
    return v instanceof Promise ? v.then(() => jwtResult<P>(token)) : jwtResult<P>(token);
  });
}

/** Verifies a compact JWS (no claim checks; jose's `compactVerify`). */
export function compactVerify(jws: string | Uint8Array, key: KeyLike, options: VerifyOptions = EMPTY_OPTIONS): Promise<CompactVerifyResult> {
  return promise(() => {
    const token = asString(jws);
    const opts = compileOptions({ algorithms: options.algorithms, crit: options.crit, maxTokenBytes: options.maxTokenBytes });
    const flags = options.backend === 'wasm' ? 0 : F_HOST;
    const result = (): CompactVerifyResult => {
      const a = token.indexOf('.');
      const b = token.indexOf('.', a + 1);
      return { payload: hostCrypto().decodeBytes(token.slice(a + 1, b)), protectedHeader: parseSegment(token, 0) as CompactVerifyResult['protectedHeader'] };
    };
    const v = verifyWith(token, sourceOf(key), opts, 0, flags);
    return v instanceof Promise ? v.then(result) : result();
  });
}
