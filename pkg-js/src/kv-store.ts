/**
 * A Workers KV store for the gate (the JS Worker): API key records and the revocation list,
 * with the same key layout as the Rust Worker (docs/worker.md):
 *
 * - `<prefix>apikey:<id>`: the record JSON of `createApiKey` (the key's SHA-256, never the key);
 * - `<prefix>revoked:<id>`: any value; present = revoked (write it with `--expiration`).
 *
 * ```js
 * import { Gate, createKvStore } from 'edgegate';
 * const gate = Gate.create(env.EDGEGATE_CONFIG, { env, store: createKvStore(env.EDGEGATE_KV) });
 * ```
 *
 * A KV error or a value that is not a record is a store error for the core (AUTH-015, the
 * request denied: fail closed), never "unknown key" or "not revoked".
 */
import type { ApiKeyRecord, GateStore } from './gate.js';

/** What the store needs of a Workers KV namespace binding (`KVNamespace`). */
export interface KvNamespaceLike {
  get(key: string, type: 'text'): Promise<string | null>;
}

/** Options of `createKvStore`. */
export interface KvStoreOptions {
  /** Prefix of every key (default none: the Rust Worker's layout). */
  prefix?: string;
}

/** A `GateStore` backed by Workers KV. */
export interface KvStore extends GateStore {
  apiKey(keyId: string): Promise<ApiKeyRecord | null>;
  isRevoked(id: string): Promise<boolean>;
}

/** What the core refuses as a store answer (neither a record nor a revocation answer). */
const STORE_ERROR = 'store error' as unknown;

/** Creates the store over `namespace` (a KV binding). */
export function createKvStore(namespace: KvNamespaceLike, options: KvStoreOptions = {}): KvStore {
  if (!namespace || typeof namespace.get !== 'function') throw new TypeError('createKvStore: pass a KV namespace binding');
  const prefix = options.prefix ?? '';
  if (typeof prefix !== 'string') throw new TypeError('createKvStore: prefix must be a string');
  return {
    async apiKey(keyId: string): Promise<ApiKeyRecord | null> {
      let raw: unknown;
      try {
        raw = await namespace.get(`${prefix}apikey:${keyId}`, 'text');
      } catch {
        return STORE_ERROR as ApiKeyRecord;
      }
      if (raw === null || raw === undefined) return null;
      try {
        return JSON.parse(String(raw)) as ApiKeyRecord;
      } catch {
        return STORE_ERROR as ApiKeyRecord;
      }
    },
    async isRevoked(id: string): Promise<boolean> {
      let raw: unknown;
      try {
        raw = await namespace.get(`${prefix}revoked:${id}`, 'text');
      } catch {
        return STORE_ERROR as boolean;
      }
      return raw !== null && raw !== undefined;
    },
  };
}
