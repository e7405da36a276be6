/**
 * Sessions as a credential the gate understands. A `SessionManager` creates session ids
 * (256 bits from the CSPRNG), stores only their SHA-256 (the core's `sessionHash`), and
 * answers the gate's session lookups (`store: sessions.gateStore()`) for a token source
 * `{"cookie": "sid", "session": true}`. The core judges the record: the hash compared in
 * constant time, unknown AUTH-008, expired AUTH-009, revoked AUTH-010.
 *
 * The store interface is small enough for Workers KV or a Durable Object later; `update`
 * must be atomic per record (the memory store is: JS runs one callback at a time).
 */
import { gateBinding } from './api.js';
import { ConfigError } from './errors.js';
import type { SessionRecordLike } from './gate.js';
import { createRedisSessionStore, type RedisClientLike } from './redis-store.js';

/** A stored session (no id: its hash). */
export interface StoredSession extends SessionRecordLike {
  roles: string[];
  permissions: string[];
  org: string | null;
  revoked: boolean;
  createdAt: number;
  lastActivityAt: number;
  ipAddress?: string;
  userAgent?: string;
}

/** Where sessions live. `update` applies `fn` atomically to one record. */
export interface SessionStore {
  get(hash: string): StoredSession | null | undefined | Promise<StoredSession | null | undefined>;
  set(record: StoredSession): void | Promise<void>;
  update(hash: string, fn: (r: StoredSession) => StoredSession | null): StoredSession | null | Promise<StoredSession | null>;
  byUser(userId: string): StoredSession[] | Promise<StoredSession[]>;
}

/** The memory store (one process; lost on restart). */
export class MemorySessionStore implements SessionStore {
  readonly #m = new Map<string, StoredSession>();
  get(hash: string) {
    const r = this.#m.get(hash);
    return r ? { ...r } : null;
  }
  set(record: StoredSession) {
    this.#m.set(record.hash, { ...record });
  }
  update(hash: string, fn: (r: StoredSession) => StoredSession | null) {
    const r = this.#m.get(hash);
    if (!r) return null;
    const n = fn({ ...r });
    if (n) this.#m.set(hash, { ...n });
    else this.#m.delete(hash);
    return n ? { ...n } : null;
  }
  byUser(userId: string) {
    return [...this.#m.values()].filter((r) => r.userId === userId).map((r) => ({ ...r }));
  }
}

export interface SessionManagerOptions {
  storage?: 'memory' | 'redis' | SessionStore;
  /** Seconds (default 3600). */
  duration?: number;
  /** Extend a session the gate sees with less than `refreshThreshold` seconds left (default true). */
  autoRefresh?: boolean;
  /** Seconds (default 300). */
  refreshThreshold?: number;
  /** Default true; false revokes a user's other sessions on create. */
  allowMultipleSessions?: boolean;
  /** Oldest active sessions beyond this are revoked on create. */
  maxSessionsPerUser?: number;
  /** For `storage: 'redis'`: the server (`url`, or a connected node-redis `client`), the key
   * prefix (default `edgegate:`) and `ttl`, seconds a record is kept after its session ends
   * (default 60). Records expire on their own; updates are atomic (compare-and-set). */
  redis?: { url?: string; client?: RedisClientLike; prefix?: string; ttl?: number };
  /** Clock, ms (default Date.now). */
  now?(): number;
}

/** A user as `createSession` takes it (an identity from the gate, or the seed's `{ id }`). */
export interface SessionUser {
  sub?: string;
  id?: string;
  roles?: string[];
  permissions?: string[];
  org?: string | null;
}

/** A created session: show `id` to the client (in a cookie) once; it is not stored. */
export interface CreatedSession extends Omit<StoredSession, 'hash'> {
  id: string;
}

function b64url(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export class SessionManager {
  readonly #store: SessionStore;
  readonly #o: Required<Pick<SessionManagerOptions, 'duration' | 'autoRefresh' | 'refreshThreshold' | 'allowMultipleSessions'>> & SessionManagerOptions;

  constructor(options: SessionManagerOptions = {}) {
    const s = options.storage ?? 'memory';
    if (s === 'redis') {
      if (!options.redis || (typeof options.redis.url !== 'string' && !options.redis.client)) throw new ConfigError('SessionManager: storage "redis" needs redis: { url } (or redis.client)');
      const clock = options.now ?? Date.now;
      try {
        this.#store = createRedisSessionStore(options.redis, () => clock());
      } catch (e) {
        throw new ConfigError(`SessionManager: ${(e as Error).message}`);
      }
    } else if (s === 'memory') this.#store = new MemorySessionStore();
    else if (s && typeof s === 'object' && typeof s.get === 'function' && typeof s.update === 'function') this.#store = s;
    else throw new ConfigError('SessionManager: storage is "memory", "redis" or a SessionStore');
    const duration = options.duration ?? 3600;
    if (!Number.isInteger(duration) || duration < 1) throw new ConfigError('SessionManager: duration must be a positive number of seconds');
    this.#o = { duration, autoRefresh: options.autoRefresh ?? true, refreshThreshold: options.refreshThreshold ?? 300, allowMultipleSessions: options.allowMultipleSessions ?? true, ...options };
  }

  #now(): number {
    return Math.floor((this.#o.now ?? Date.now)() / 1000);
  }

  static hash(id: string): string {
    return (gateBinding() as { sessionHash(id: string): string }).sessionHash(id);
  }

  async createSession(user: SessionUser, meta: { ipAddress?: string; userAgent?: string } = {}): Promise<CreatedSession> {
    const userId = user.sub ?? user.id;
    if (typeof userId !== 'string' || !userId) throw new ConfigError('createSession: the user needs a sub (or id)');
    const id = b64url(globalThis.crypto.getRandomValues(new Uint8Array(32)));
    const now = this.#now();
    const rec: StoredSession = { hash: SessionManager.hash(id), userId, roles: [...(user.roles ?? [])], permissions: [...(user.permissions ?? [])], org: user.org ?? null, expiresAt: now + this.#o.duration, revoked: false, createdAt: now, lastActivityAt: now, ipAddress: meta.ipAddress, userAgent: meta.userAgent };
    const active = (await this.#store.byUser(userId)).filter((r) => !r.revoked && r.expiresAt > now).sort((a, b) => a.createdAt - b.createdAt);
    const limit = this.#o.allowMultipleSessions ? this.#o.maxSessionsPerUser : 1;
    if (limit !== undefined) {
      for (const old of active.slice(0, Math.max(0, active.length - (limit - 1)))) await this.#store.update(old.hash, (r) => ({ ...r, revoked: true }));
    }
    await this.#store.set(rec);
    const { hash: _h, ...rest } = rec;
    return { id, ...rest };
  }

  /** The active session for `id`, or null (unknown, expired or revoked). */
  async getSession(id: string): Promise<Omit<StoredSession, 'hash'> | null> {
    const r = await this.#store.get(SessionManager.hash(id));
    if (!r || r.revoked || r.expiresAt <= this.#now()) return null;
    const { hash: _h, ...rest } = r;
    return rest;
  }

  /** Extends an active session by `duration` (atomic in the store); null if not active. */
  async refreshSession(id: string): Promise<Omit<StoredSession, 'hash'> | null> {
    const now = this.#now();
    const r = await this.#store.update(SessionManager.hash(id), (x) => (x.revoked || x.expiresAt <= now ? x : { ...x, expiresAt: now + this.#o.duration, lastActivityAt: now }));
    if (!r || r.revoked || r.expiresAt <= now) return null;
    const { hash: _h, ...rest } = r;
    return rest;
  }

  async revokeSession(id: string): Promise<boolean> {
    return (await this.#store.update(SessionManager.hash(id), (x) => ({ ...x, revoked: true }))) !== null;
  }

  async revokeUserSessions(userId: string): Promise<number> {
    let n = 0;
    for (const r of await this.#store.byUser(userId)) {
      if (r.revoked) continue;
      await this.#store.update(r.hash, (x) => ({ ...x, revoked: true }));
      n++;
    }
    return n;
  }

  /** The user's active sessions (without hashes). */
  async listUserSessions(userId: string): Promise<Array<Omit<StoredSession, 'hash'>>> {
    const now = this.#now();
    return (await this.#store.byUser(userId)).filter((r) => !r.revoked && r.expiresAt > now).map(({ hash: _h, ...r }) => r);
  }

  /** `GateStore.session` for `Gate.create(config, { store: sessions.gateStore() })`; with
   * `autoRefresh`, a session the gate sees near its end is extended first. */
  gateStore(): { session(hash: string): Promise<StoredSession | null> } {
    return {
      session: async (hash: string) => {
        const now = this.#now();
        if (this.#o.autoRefresh) {
          return (await this.#store.update(hash, (x) => (!x.revoked && x.expiresAt > now && x.expiresAt - now < this.#o.refreshThreshold ? { ...x, expiresAt: now + this.#o.duration, lastActivityAt: now } : x))) ?? null;
        }
        return (await this.#store.get(hash)) ?? null;
      },
    };
  }

  /** Disconnects a Redis client the manager created (nothing for the other stores). */
  async close(): Promise<void> {
    await (this.#store as { close?(): Promise<void> }).close?.();
  }

  /** A `Set-Cookie` value for the session id: HttpOnly, Secure, SameSite=Lax, Path=/. */
  cookie(id: string, name = 'sid'): string {
    return `${name}=${id}; HttpOnly; Secure; SameSite=Lax; Path=/; Max-Age=${this.#o.duration}`;
  }
}
