/** Key sets: imports through the core (JWK, JWKS, PEM, secrets, KeyObjects, CryptoKeys),
 * lazily imported native keys, and the jose-style key functions. */
import { ConfigError, InvalidTokenError, fromCore } from './errors.js';
import { w, type KeySetHandle } from './binding.js';
import { type AsymAlg, type HostCrypto, type JsonWebKeyLike } from './host.js';
import { type ProtectedHeaderParameters } from './inspect.js';
import type { JWTVerifyResult } from './verify.js';

/** @internal The start of the "no key" message (the core's text continues it). */
export const NO_KEY = 'no key matches';

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

/* ------------------------------------------------------------------ key sets */

/** @internal A verified-token cache entry. */
export interface CacheEntry {
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

/** @internal */
export function importJson(o: unknown, remote = false): KeySetEntry {
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
      // A KeyObject is immutable: its import is cached per object, as a JWK's is.
      const e = k.type === 'secret' ? fromStatic(new Uint8Array((k.export as () => Uint8Array)())) : importJson((k.export as (o: object) => unknown)({ format: 'jwk' }));
      if (e instanceof KeySetEntry) byObject.set(key, e);
      return e;
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

/** @internal */
export function sourceOf(key: unknown): KeySource {
  if (typeof key === 'function') {
    const s = (key as { [KEY_SOURCE]?: KeySource })[KEY_SOURCE];
    if (s) return s;
    // A jose-style user function: (protectedHeader, token) => key.
    const f = key as (h: ProtectedHeaderParameters, t: unknown) => unknown;
    return {
      current: async (header) => fromStatic(await f(header ? header() : {}, undefined)),
    };
  }
  // A key passed directly: one source per key object / PEM string, so the hot path
  // allocates nothing for it (the import itself is cached in `fromStatic`).
  if (typeof key === 'object' && key !== null) {
    let s = staticSources.get(key);
    if (s === undefined) {
      s = { current: () => fromStatic(key) };
      staticSources.set(key, s);
    }
    return s;
  }
  if (typeof key === 'string') {
    let s = pemSources.get(key);
    if (s === undefined) {
      s = { current: () => fromStatic(key) };
      if (pemSources.size >= 64) pemSources.clear();
      pemSources.set(key, s);
    }
    return s;
  }
  return { current: () => fromStatic(key) };
}

const staticSources = new WeakMap<object, KeySource>();
const pemSources = new Map<string, KeySource>();

/* ------------------------------------------------------------------ local JWK set */

/**
 * The jose-style key function: the core selects the keys (jose's `LocalJWKSet`: `kid`, then
 * `kty`/`crv` for `alg`, the key's `alg`, `use: "sig"`, `key_ops` with `verify`). None: no
 * matching key. Several: an error that also iterates over them (as jose's
 * `JWKSMultipleMatchingKeys`). HMAC secrets never leave wasm.
 */
/** @internal */
export function jwksFunction(source: KeySource, describe: () => Promise<KeySetEntry>): JWKSFunction {
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
