/**
 * A Redis store for the gate (Node clusters): rate-limit state with one atomic script per
 * compare-and-set, API key records and the revocation list.
 *
 * ```ts
 * import { Gate, createRedisStore } from 'edgegate';
 * const store = createRedisStore({ url: 'redis://127.0.0.1:6379', prefix: 'edgegate:' });
 * const gate = Gate.create(config, { store });
 * ```
 *
 * The `redis` npm client is an optional peer dependency, loaded with a dynamic import the
 * first time the store is used (so `import('edgegate')` works without it). Pass `client`
 * to use a connected node-redis client of your own instead of `url`.
 *
 * Keys (after `prefix`, default `edgegate:`): `rl:<policy>:<sha256>` (rate-limit state,
 * expiring on its own), `apikey:<id>` (the record as JSON), `revoked:<id>` (present: revoked).
 */
import type { ApiKeyRecord, CompareAndSetResult, GateStore, RateLimitStore } from './gate.js';
import type { SessionStore, StoredSession } from './sessions.js';

/** What the store needs of a node-redis (v4 or v5) client. */
export interface RedisClientLike {
  get(key: string): Promise<string | null | unknown>;
  exists(key: string): Promise<number | unknown>;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  connect?(): Promise<unknown>;
  quit?(): Promise<unknown>;
  close?(): Promise<unknown>;
  isOpen?: boolean;
}

/** Options of `createRedisStore`: `url` (the store connects lazily) or `client`. */
export interface RedisStoreOptions {
  url?: string;
  client?: RedisClientLike;
  /** Prefix of every key (default `edgegate:`). */
  prefix?: string;
}

/** A `GateStore` backed by Redis; `close()` disconnects a client the store created. */
export interface RedisStore extends GateStore {
  rateLimit: RateLimitStore;
  apiKey(keyId: string): Promise<ApiKeyRecord | null>;
  isRevoked(id: string): Promise<number>;
  close(): Promise<void>;
}

/**
 * Compare-and-set in one script: ARGV[1] = "1" when a value is expected (ARGV[2]), "0" when
 * the key must be absent; on a match SET ARGV[3] with PX ARGV[4] and return {1}; otherwise
 * return {0, current} (current = nil when absent).
 */
export const COMPARE_AND_SET_LUA = `local cur = redis.call('GET', KEYS[1])
if ARGV[1] == '1' then
  if cur ~= ARGV[2] then return {0, cur} end
elseif cur then
  return {0, cur}
end
redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[4])
return {1}`;

/** The module name, held in a variable so that bundlers leave the optional import alone. */
const REDIS_MODULE = 'redis';

/** A lazily connected client (`url`) or the caller's (`client`), and how to close it. */
function connector(options: { url?: string; client?: RedisClientLike }, who: string): { client(): Promise<RedisClientLike>; close(): Promise<void> } {
  if (!options.client && typeof options.url !== 'string') throw new TypeError(`${who}: pass url or client`);
  let owned: RedisClientLike | undefined;
  let pending: Promise<RedisClientLike> | undefined;
  const client = (): Promise<RedisClientLike> => {
    if (options.client) return Promise.resolve(options.client);
    // A client whose connection dropped (Redis restarted, the network blipped) is closed for
    // good (no reconnect loop): the next call connects anew, so the store recovers by itself.
    if (owned && owned.isOpen === false) {
      owned = undefined;
      pending = undefined;
    }
    pending ??= (async () => {
      let mod: { createClient(o: unknown): RedisClientLike };
      try {
        mod = (await import(REDIS_MODULE)) as typeof mod;
      } catch {
        pending = undefined;
        throw new Error(`${who}: the optional peer dependency "redis" is not installed (npm install redis)`);
      }
      // No endless reconnect loop: a down server is a store error (onStoreError), fast.
      const c = mod.createClient({ url: options.url, socket: { reconnectStrategy: false, connectTimeout: 1000 } });
      (c as unknown as { on?(e: string, f: (err: unknown) => void): void }).on?.('error', () => {});
      try {
        await c.connect?.();
      } catch (e) {
        pending = undefined;
        throw e;
      }
      owned = c;
      return c;
    })();
    return pending;
  };
  return {
    client,
    async close(): Promise<void> {
      const c = owned;
      owned = undefined;
      pending = undefined;
      if (!c) return;
      try {
        if (c.close) await c.close();
        else await c.quit?.();
      } catch {
        // already closed
      }
    },
  };
}

/** Creates the store (see the module docs). */
export function createRedisStore(options: RedisStoreOptions): RedisStore {
  const prefix = options.prefix ?? 'edgegate:';
  const { client, close } = connector(options, 'createRedisStore');
  const rateLimit: RateLimitStore = {
    kind: 'redis',
    async load(key: string): Promise<string | null> {
      const v = await (await client()).get(prefix + key);
      if (v !== null && typeof v !== 'string') throw new Error('redis: unexpected GET answer');
      return v;
    },
    async compareAndSet(key: string, expected: string | null, next: string, ttlMs: number): Promise<CompareAndSetResult> {
      const ttl = String(Math.max(1, Math.ceil(ttlMs)));
      const args = expected === null ? ['0', '', next, ttl] : ['1', expected, next, ttl];
      const r = await (await client()).eval(COMPARE_AND_SET_LUA, { keys: [prefix + key], arguments: args });
      if (!Array.isArray(r)) throw new Error('redis: unexpected script answer');
      const [swapped, held] = r as [unknown, unknown];
      if (swapped === 1) return { ok: true };
      const current = held ?? null;
      if (swapped !== 0 || (current !== null && typeof current !== 'string')) throw new Error('redis: unexpected script answer');
      return { ok: false, current };
    },
  };
  return {
    rateLimit,
    async apiKey(keyId: string): Promise<ApiKeyRecord | null> {
      const raw = await (await client()).get(`${prefix}apikey:${keyId}`);
      if (raw === null || raw === undefined) return null;
      try {
        return JSON.parse(String(raw)) as ApiKeyRecord;
      } catch {
        // Not a record: the core refuses it as a store error (AUTH-015), never "unknown".
        return {} as ApiKeyRecord;
      }
    },
    async isRevoked(id: string): Promise<number> {
      // EXISTS answers 0 or 1; the core accepts exactly those (anything else: AUTH-015).
      return (await (await client()).exists(`${prefix}revoked:${id}`)) as number;
    },
    close,
  };
}

/** Options of the Redis session store (`SessionManager({ storage: 'redis', redis })`). */
export interface RedisSessionOptions {
  url?: string;
  client?: RedisClientLike;
  /** Prefix of every key (default `edgegate:`). */
  prefix?: string;
  /** Seconds a record is kept after its session ends (default 60): a revoked or expired
   * session keeps answering AUTH-010 / AUTH-009 that long, then is unknown (AUTH-008). */
  ttl?: number;
}

/**
 * Sessions in Redis: `<prefix>session:<hash>` (the record JSON, expiring `ttl` seconds after
 * the session ends) and `<prefix>user-sessions:<userId>` (the set of a user's hashes). An
 * update is a compare-and-set retried on conflict: concurrent refreshes of one session never
 * lose a write.
 */
export const SESSION_SET_LUA = `redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('SADD', KEYS[2], ARGV[3])
local t = redis.call('PTTL', KEYS[2])
if t < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[2], ARGV[2]) end
return 1`;

/** KEYS[1] record; ARGV[1] expected JSON; ARGV[2] new JSON ('' deletes); ARGV[3] PX. */
export const SESSION_CAS_LUA = `local cur = redis.call('GET', KEYS[1])
if cur ~= ARGV[1] then return {0} end
if ARGV[2] == '' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end
return {1}`;

/** KEYS[1] the user's set; ARGV[1] the record key prefix: the records that still exist
 * (hashes whose record is gone are removed from the set). */
export const SESSION_BY_USER_LUA = `local out = {}
for _, h in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local v = redis.call('GET', ARGV[1] .. h)
  if v then table.insert(out, v) else redis.call('SREM', KEYS[1], h) end
end
return out`;

const MAX_CAS_ATTEMPTS = 32;

/** @internal A `SessionStore` in Redis (see `SESSION_SET_LUA`); `close()` disconnects a client it created. */
export function createRedisSessionStore(options: RedisSessionOptions, now: () => number = Date.now): SessionStore & { close(): Promise<void> } {
  const prefix = options.prefix ?? 'edgegate:';
  const keep = options.ttl ?? 60;
  if (!Number.isInteger(keep) || keep < 0) throw new TypeError('redis.ttl: expected a whole number of seconds >= 0');
  const { client, close } = connector(options, 'SessionManager (redis)');
  const recordKey = (hash: string) => `${prefix}session:${hash}`;
  const userKey = (userId: string) => `${prefix}user-sessions:${userId}`;
  const px = (r: StoredSession) => String(Math.max(1000, (r.expiresAt + keep) * 1000 - now()));
  const parse = (raw: unknown): StoredSession | null => {
    if (raw === null || raw === undefined) return null;
    try {
      const r = JSON.parse(String(raw)) as StoredSession;
      return r && typeof r === 'object' && typeof r.hash === 'string' ? r : null;
    } catch {
      return null;
    }
  };
  return {
    async get(hash: string) {
      return parse(await (await client()).get(recordKey(hash)));
    },
    async set(record: StoredSession) {
      await (await client()).eval(SESSION_SET_LUA, { keys: [recordKey(record.hash), userKey(record.userId)], arguments: [JSON.stringify(record), px(record), record.hash] });
    },
    async update(hash: string, fn: (r: StoredSession) => StoredSession | null) {
      const c = await client();
      for (let i = 0; i < MAX_CAS_ATTEMPTS; i++) {
        const raw = await c.get(recordKey(hash));
        if (raw === null || raw === undefined) return null;
        const cur = parse(raw);
        if (!cur) throw new Error('redis: malformed session record');
        const next = fn({ ...cur });
        const nextRaw = next ? JSON.stringify(next) : '';
        const r = await c.eval(SESSION_CAS_LUA, { keys: [recordKey(hash)], arguments: [String(raw), nextRaw, next ? px(next) : '1'] });
        const [swapped] = Array.isArray(r) ? (r as unknown[]) : [];
        if (swapped === 1) return next ? { ...next } : null;
        // Another writer got there first: read again and reapply `fn`.
      }
      throw new Error('redis: too many concurrent updates of one session');
    },
    async byUser(userId: string) {
      const r = await (await client()).eval(SESSION_BY_USER_LUA, { keys: [userKey(userId)], arguments: [`${prefix}session:`] });
      if (!Array.isArray(r)) throw new Error('redis: unexpected script answer');
      return r.map(parse).filter((x): x is StoredSession => x !== null && x.userId === userId);
    },
    close,
  };
}

