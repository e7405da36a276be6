/**
 * The verifier: jose's API (`jwtVerify`, `compactVerify`, `createLocalJWKSet`) over the
 * wasm core. The core parses, selects keys, pins the algorithm and checks claims in ONE
 * call; the host backend only checks RSA/ECDSA/EdDSA signatures natively.
 */
import { ConfigError, InvalidSignatureError, InvalidTokenError, TokenDecodeError, authError, fromCore, type AuthError } from './errors.js';
import { ALGS, F_HOST, F_JWT, JWKS_DEFAULTS, LIMITS, R_ALG, R_CODE, R_HEAD, R_NCAND, R_NO_KEY, R_STATUS, ST_ERR, ST_OK } from './abi.generated.js';
import { type AsymAlg, type HostCrypto, type JsonWebKeyLike } from './host.js';
import { asString, setupInspect, type InspectBinding, type JWTPayload, type ProtectedHeaderParameters } from './inspect.js';

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

function w(): Binding {
  if (!W) throw new Error('edgegate: wasm not initialised');
  return W;
}

/* ------------------------------------------------------------------ public types */

/** A JSON Web Key (public; or `oct` for HMAC in a local set). */
export interface JWK {
  kty?: string;
  kid?: string;
  alg?: string;
  use?: string;
  key_ops?: string[];
  crv?: string;
  n?: string;
  e?: string;
  x?: string;
  y?: string;
  k?: string;
  [propName: string]: unknown;
}

/** A JSON Web Key Set. */
export interface JSONWebKeySet {
  keys: JWK[];
}

/** A key set function (from `createLocalJWKSet` / `createRemoteJWKSet`): jose-compatible, it resolves the public JWK for a header. */
export interface JWKSFunction {
  (protectedHeader?: ProtectedHeaderParameters, token?: unknown): Promise<JWK>;
}

/** Anything `jwtVerify` / `compactVerify` accepts as a key. */
export type KeyLike =
  | JWK
  | JSONWebKeySet
  | Uint8Array
  | string
  | JWKSFunction
  | { type: string; export(options: { format: 'jwk' }): unknown }
  | ((protectedHeader: ProtectedHeaderParameters, token: unknown) => unknown);

/** Options of `compactVerify` (jose's `VerifyOptions`). */
export interface VerifyOptions {
  /** Allowed algorithms (default: every algorithm the key allows; never `none`). */
  algorithms?: string[];
  /** Critical header parameters the caller understands (jose's `crit`). */
  crit?: Record<string, boolean>;
  /** `'native'` (default): node:crypto / WebCrypto checks RSA/ECDSA/EdDSA signatures; `'wasm'`: the pure-Rust backend does everything. */
  backend?: 'native' | 'wasm';
  /** Largest token accepted, in bytes (default 16 KiB). */
  maxTokenBytes?: number;
}

/** Options of `jwtVerify` (jose's `JWTVerifyOptions`, plus `cache`). */
export interface JWTVerifyOptions extends VerifyOptions {
  issuer?: string | string[];
  audience?: string | string[];
  subject?: string;
  /** Leeway for `exp`/`nbf`/`iat`: seconds, or a duration string (`"30s"`, `"5 minutes"`). */
  clockTolerance?: string | number;
  /** Maximum age since `iat`: seconds or a duration string. */
  maxTokenAge?: string | number;
  requiredClaims?: string[];
  typ?: string;
  /** The instant to verify at (default: now). */
  currentDate?: Date;
  /**
   * Opt-in cache of verified tokens: a bounded LRU keyed by the full token, the key set
   * and these options. On every hit the core re-runs the claim checks at `currentDate`
   * (`exp`, `nbf`, `maxTokenAge`): a hit is never served where a fresh check would fail.
   * Tokens without `exp` are not cached; an entry never outlives the key set that
   * verified it. Cached results are frozen.
   */
  cache?: { max: number };
}

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

/* ------------------------------------------------------------------ durations */

const UNITS: Record<string, number> = {
  s: 1, sec: 1, secs: 1, second: 1, seconds: 1,
  m: 60, min: 60, mins: 60, minute: 60, minutes: 60,
  h: 3600, hr: 3600, hrs: 3600, hour: 3600, hours: 3600,
  d: 86400, day: 86400, days: 86400,
  w: 604800, week: 604800, weeks: 604800,
  y: 31557600, yr: 31557600, yrs: 31557600, year: 31557600, years: 31557600,
};

/** Seconds from a number or a jose-style duration string (`"30s"`, `"2 hours"`). */
export function secs(v: string | number, field = 'duration'): number {
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || v < 0) throw new ConfigError(`options.${field}: expected a non-negative number of seconds`);
    return Math.floor(v);
  }
  const m = /^(\d+|\d+\.\d+) ?([a-z]+)$/i.exec(String(v).trim());
  const unit = m && UNITS[m[2].toLowerCase()];
  if (!m || !unit) throw new ConfigError(`options.${field}: invalid duration`);
  return Math.round(parseFloat(m[1]) * unit);
}

/* ------------------------------------------------------------------ options */

interface CompiledOptions {
  handle: OptionsHandle;
  key: string;
}

const optionsByObject = new WeakMap<object, CompiledOptions>();
const optionsByText = new Map<string, CompiledOptions>();
const OPTIONS_TEXT_MAX = 256;
const EMPTY_OPTIONS: JWTVerifyOptions = {};

function list(v: string | string[] | undefined, field: string): string[] {
  if (v === undefined) return [];
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v;
  throw new ConfigError(`options.${field}: expected a string or an array of strings`);
}

function compileOptions(o: JWTVerifyOptions): CompiledOptions {
  const hit = optionsByObject.get(o);
  if (hit) return hit;
  const crit = o.crit ? Object.keys(o.crit).filter((k) => o.crit![k]) : [];
  const norm: Record<string, unknown> = {
    algorithms: o.algorithms ?? [],
    issuer: list(o.issuer, 'issuer'),
    audience: list(o.audience, 'audience'),
    requiredClaims: o.requiredClaims ?? [],
    crit,
    clockTolerance: o.clockTolerance === undefined ? 0 : secs(o.clockTolerance, 'clockTolerance'),
  };
  if (o.subject !== undefined) norm.subject = o.subject;
  if (o.maxTokenAge !== undefined) norm.maxTokenAge = secs(o.maxTokenAge, 'maxTokenAge');
  if (o.typ !== undefined) norm.typ = o.typ;
  if (o.maxTokenBytes !== undefined) norm.maxTokenBytes = o.maxTokenBytes;
  const text = JSON.stringify(norm);
  let c = optionsByText.get(text);
  if (!c) {
    let handle: OptionsHandle;
    try {
      handle = new (w().Options)(text);
    } catch (e) {
      throw fromCore(e, 'AUTH-015');
    }
    c = { handle, key: text };
    if (optionsByText.size >= OPTIONS_TEXT_MAX) {
      const first = optionsByText.keys().next().value;
      if (first !== undefined) optionsByText.delete(first);
    }
    optionsByText.set(text, c);
  }
  optionsByObject.set(o, c);
  return c;
}

/* ------------------------------------------------------------------ key sets */

interface CacheEntry {
  result: JWTVerifyResult;
}

/** @internal One imported key set (a wasm handle plus lazily imported native keys). */
export class KeySetEntry {
  readonly handle: KeySetHandle;
  private described?: Array<{ kid: string | null; jwk: JsonWebKeyLike | null }>;
  private native: Array<Map<string, unknown>> = [];
  /** Verified-token caches of this key set, by options key. */
  caches?: Map<string, Map<string, CacheEntry>>;

  constructor(handle: KeySetHandle) {
    this.handle = handle;
  }

  /** The public JWKs (never HMAC secrets). */
  describe(): Array<{ kid: string | null; jwk: JsonWebKeyLike | null }> {
    return (this.described ??= JSON.parse(this.handle.describe()));
  }

  nativeKey(host: HostCrypto, index: number, alg: AsymAlg): unknown {
    let m = this.native[index];
    if (!m) this.native[index] = m = new Map();
    let k = m.get(alg);
    if (k === undefined) {
      const jwk = this.describe()[index]?.jwk;
      if (!jwk) return undefined;
      try {
        k = host.importKey(jwk, alg);
      } catch {
        k = null;
      }
      if (k instanceof Promise) k = k.catch(() => null);
      m.set(alg, k);
    }
    return k;
  }
}

/** @internal A source of key sets (local, remote or a user function). */
export interface KeySource {
  /** The current keys (may fetch). */
  current(header?: () => ProtectedHeaderParameters): KeySetEntry | Promise<KeySetEntry>;
  /** Called when no key matched: a fresher set, or `undefined` (no refetch allowed). */
  unknownKid?(): Promise<KeySetEntry | undefined>;
}

/** @internal Marks functions returned by `createLocalJWKSet` / `createRemoteJWKSet`. */
export const KEY_SOURCE: unique symbol = Symbol.for('edgegate.keySource') as never;

function importJson(o: unknown, remote = false): KeySetEntry {
  const bytes = new TextEncoder().encode(JSON.stringify(o));
  try {
    const isSet = typeof o === 'object' && o !== null && 'keys' in o;
    return new KeySetEntry(isSet ? w().KeySet.fromJwks(bytes, remote) : w().KeySet.fromJwk(bytes));
  } catch (e) {
    throw fromCore(e, remote ? 'AUTH-007' : 'AUTH-015');
  }
}

/** @internal Imports a JWKS document's bytes as a remote set (errors are AUTH-007). */
export function importRemote(bytes: Uint8Array): KeySetEntry {
  try {
    return new KeySetEntry(w().KeySet.fromJwks(bytes, true));
  } catch (e) {
    throw fromCore(e, 'AUTH-007');
  }
}

const byObject = new WeakMap<object, KeySetEntry>();
const byPem = new Map<string, KeySetEntry>();
const secrets = new WeakMap<Uint8Array, { copy: Uint8Array; entry: KeySetEntry }>();

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function fromStatic(key: unknown): KeySetEntry | Promise<KeySetEntry> {
  if (key instanceof Uint8Array) {
    const hit = secrets.get(key);
    if (hit && sameBytes(hit.copy, key)) return hit.entry;
    let entry: KeySetEntry;
    try {
      entry = new KeySetEntry(w().KeySet.fromSecret(key));
    } catch (e) {
      throw fromCore(e, 'AUTH-015');
    }
    secrets.set(key, { copy: key.slice(), entry });
    return entry;
  }
  if (typeof key === 'string') {
    let e = byPem.get(key);
    if (!e) {
      try {
        e = new KeySetEntry(w().KeySet.fromPem(key));
      } catch (err) {
        throw fromCore(err, 'AUTH-015');
      }
      if (byPem.size >= 64) byPem.clear();
      byPem.set(key, e);
    }
    return e;
  }
  if (typeof key === 'object' && key !== null) {
    const hit = byObject.get(key);
    if (hit) return hit;
    const k = key as { type?: unknown; export?: unknown; algorithm?: unknown; extractable?: unknown };
    // A node KeyObject: export its public JWK.
    if (typeof k.export === 'function' && typeof k.type === 'string') {
      if (k.type !== 'public' && k.type !== 'secret') throw new ConfigError('a private key was given where a public key is expected');
      if (k.type === 'secret') return fromStatic(new Uint8Array((k.export as () => Uint8Array)()));
      return importJson((k.export as (o: object) => unknown)({ format: 'jwk' }));
    }
    // A WebCrypto CryptoKey.
    if (typeof k.algorithm === 'object' && typeof k.extractable === 'boolean' && typeof globalThis.crypto?.subtle !== 'undefined') {
      return globalThis.crypto.subtle.exportKey('jwk', key as CryptoKey).then(
        (jwk) => importJson(jwk),
        () => {
          throw new ConfigError('CryptoKey is not extractable; pass its JWK instead');
        },
      );
    }
    const e = importJson(key);
    byObject.set(key, e);
    return e;
  }
  throw new ConfigError('unsupported key type');
}

function sourceOf(key: unknown): KeySource {
  if (typeof key === 'function') {
    const s = (key as { [KEY_SOURCE]?: KeySource })[KEY_SOURCE];
    if (s) return s;
    // A jose-style user function: (protectedHeader, token) => key.
    const f = key as (h: ProtectedHeaderParameters, t: unknown) => unknown;
    return {
      current: async (header) => fromStatic(await f(header ? header() : {}, undefined)),
    };
  }
  return { current: () => fromStatic(key) };
}

/* ------------------------------------------------------------------ verify */

function takeError(): AuthError {
  return fromCore(w().takeError());
}

function headerFn(token: string): () => ProtectedHeaderParameters {
  return () => {
    const i = token.indexOf('.');
    try {
      return JSON.parse(HOST!.decodeText(token.slice(0, i < 0 ? token.length : i)));
    } catch {
      throw new TokenDecodeError('header is not a valid JSON object');
    }
  };
}

const NO_KEY = 'no key matches';

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
    throw takeError();
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
  const host = HOST!;
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
    if (claimCode !== 0) throw takeError();
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
  return JSON.parse(HOST!.decodeText(token.slice(a + 1, token.indexOf('.', a + 1))));
}

/** Protected headers repeat (same alg/kid/typ): parsed once per distinct segment, frozen. */
const headers = new Map<string, Record<string, unknown>>();
const HEADERS_MAX = 256;

function parseHeader(seg: string): Record<string, unknown> {
  let h = headers.get(seg);
  if (h === undefined) {
    h = deepFreeze(JSON.parse(HOST!.decodeText(seg)) as Record<string, unknown>);
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
      return { payload: HOST!.decodeBytes(token.slice(a + 1, b)), protectedHeader: parseSegment(token, 0) as CompactVerifyResult['protectedHeader'] };
    };
    const v = verifyWith(token, sourceOf(key), opts, 0, flags);
    return v instanceof Promise ? v.then(result) : result();
  });
}

/* ------------------------------------------------------------------ local JWK set */

/**
 * The jose-style key function: the core selects the keys (jose's `LocalJWKSet`: `kid`, then
 * `kty`/`crv` for `alg`, the key's `alg`, `use: "sig"`, `key_ops` with `verify`). None: no
 * matching key. Several: an error that also iterates over them (as jose's
 * `JWKSMultipleMatchingKeys`). HMAC secrets never leave wasm.
 */
function jwksFunction(source: KeySource, describe: () => Promise<KeySetEntry>): JWKSFunction {
  const f = (async (header?: ProtectedHeaderParameters) => {
    const ks = await describe();
    const h = (header ?? {}) as { alg?: unknown; kid?: unknown };
    const all = ks.describe();
    const keys = Array.from(ks.handle.select(typeof h.alg === 'string' ? h.alg : '', typeof h.kid === 'string' ? h.kid : undefined), (i) => all[i]).filter((k) => k && k.jwk);
    const jwk = (k: (typeof keys)[number]): JWK => ({ ...k.jwk, ...(k.kid ? { kid: k.kid } : {}) }) as JWK;
    if (keys.length === 0) throw new InvalidTokenError(`${NO_KEY} the token's kid and alg`);
    if (keys.length > 1) {
      const e = new InvalidTokenError('multiple keys match the token\'s kid and alg');
      Object.defineProperty(e, Symbol.asyncIterator, {
        value: async function* () {
          for (const k of keys) yield jwk(k);
        },
      });
      throw e;
    }
    return jwk(keys[0]);
  }) as JWKSFunction;
  Object.defineProperty(f, KEY_SOURCE, { value: source });
  return f;
}

/** A key set function over a JWKS given by the caller (jose's `createLocalJWKSet`). May hold HMAC keys (never mixed with asymmetric ones). */
export function createLocalJWKSet(jwks: JSONWebKeySet): JWKSFunction {
  if (!jwks || typeof jwks !== 'object' || !Array.isArray(jwks.keys)) throw new ConfigError('createLocalJWKSet: expected a JSON Web Key Set');
  const entry = importJson({ keys: jwks.keys });
  const source: KeySource = { current: () => entry };
  return jwksFunction(source, async () => entry);
}

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
