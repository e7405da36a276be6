/**
 * The gate for JS hosts: routes, providers, RBAC, API keys and revocation decided by the
 * wasm core (`src/gate/decide.rs`). This file only does the I/O the core asks for (JWKS and
 * discovery fetches, introspection, store lookups, a custom verifier) and translates.
 *
 * ```ts
 * import { Gate } from 'edgegate';
 * const gate = Gate.create(config, { env: process.env });
 * for (const w of gate.warnings) console.warn(w);
 * const d = await gate.decide({ method: 'GET', path: '/api/x', headers: { authorization: 'Bearer ...' } });
 * if (!d.allow) return new Response(d.body, { status: d.status, headers: ... });
 * ```
 */
import { API_KEY_RANDOM_BYTES, JWKS_DEFAULTS } from './abi.generated.js';
import { defaultLimits, gateBinding, KEY_SOURCE, type KeySource } from './api.js';
import type { GateConfig } from './config.generated.js';
import { host as hostCrypto } from './binding.js';
import { ConfigError, fromCore } from './errors.js';
import type { AsymAlg, HostCrypto, JsonWebKeyLike } from './host.js';
import { CLOCK, createRemoteJWKSet, readBounded, USABLE_UNTIL, type RemoteJWKSetOptions, type RemoteJWKSFunction } from './remote.js';

/** @internal The wasm class: the gate and what its requests share (key sets, discovery,
 * the introspection cache). */
interface GateCoreHandle {
  warnings(): string;
  strippedHeaders(names: string): string;
  requiredStores(): string;
  begin(request: string): RequestHandle;
  requirements(): string;
  keyEndpoints(): string;
  rateLimitStatus(policy: string, value: string, stored: string | undefined, nowMs: number): string;
  free(): void;
}

/** @internal The wasm core of each gate, for the CLI's diagnostics (not exported by the package). */
const CORES = new WeakMap<Gate, GateCoreHandle>();
/** Gates created for inspection only: they never decide. */
const INSPECTED = new WeakSet<Gate>();

/** @internal Where each provider's keys come from: `[{ name, issuer, jwksUrl, discoveryUrl }]`. */
export function keyEndpoints(gate: Gate): Array<{ name: string; issuer: string | null; jwksUrl: string | null; discoveryUrl: string | null }> {
  const core = CORES.get(gate);
  if (!core) throw new TypeError('not a Gate');
  return JSON.parse(core.keyEndpoints());
}

/** @internal A rate-limit policy's store key for a key value and, given the stored state,
 * what it means now (nothing consumed). Throws `ConfigError` for an unknown policy. */
export function rateLimitStatus(gate: Gate, policy: string, value: string, stored: string | null, nowMs: number): { policy: string; store: string; storeKey: string; keyKind: string; limit: number; window: number; remaining: number; resetMs: number; state: 'absent' | 'ok' | 'malformed' } {
  const core = CORES.get(gate);
  if (!core) throw new TypeError('not a Gate');
  try {
    return JSON.parse(core.rateLimitStatus(policy, value, stored ?? undefined, nowMs));
  } catch (e) {
    throw fromCore(e, 'AUTH-015');
  }
}

/** @internal One request being decided (wasm `GateRequestHandle`): its own answers. */
interface RequestHandle {
  decide(now: number): string;
  decideAt(nowMs: number): string;
  provideRateLimitState(policy: string, key: string, state?: string, version?: string): void;
  provideRateLimitStored(policy: string, key: string, ok: boolean, current?: string): void;
  provideRateLimitError(policy: string, key: string): void;
  provideJwks(provider: string, bytes: Uint8Array, usableUntil?: number): boolean;
  provideJwksError(provider: string): void;
  provideDiscovery(provider: string, bytes: Uint8Array): void;
  provideDiscoveryError(provider: string): void;
  provideIntrospection(provider: string, token: string, body?: Uint8Array): void;
  provideCustom(provider: string, token: string, claims?: string): void;
  provideApiKey(keyId: string, record?: string): void;
  provideVerdict(index: number, ok?: boolean): void;
  provideRevoked(id: string, answer?: string): void;
  provideSession(hash: string, record?: string): void;
  free(): void;
}

/** A request as the gate sees it. */
export interface GateRequest {
  method: string;
  /** Path and query, e.g. `/api/x?y=1`. */
  path: string;
  headers?: Record<string, string | string[] | undefined> | Array<[string, string]> | Headers;
  /** A client certificate the TLS layer saw and verified itself (e.g. Node's `socket.authorized`). */
  clientCert?: { verified: boolean; fingerprintSha256?: string };
  /** The client's address (rate limits keyed on `ip`). Node: the socket address unless a
   * trusted proxy says otherwise; the Worker: `CF-Connecting-IP`. */
  clientIp?: string;
  /** Or the raw TLS facts (Cloudflare's `request.cf.tlsClientAuth`: `certPresented`,
   * `certVerified`, `certRevoked`, `certFingerprintSHA256`): the core decides what counts as
   * a verified certificate. At most one of the two. */
  tlsClientAuth?: Record<string, unknown> | null;
}

/** Who the caller is. */
export interface GateIdentity {
  sub: string;
  provider: string;
  roles: string[];
  permissions: string[];
  org: string | null;
  claims: Record<string, unknown>;
}

/** A denial (also carried by a shadow allow). */
export interface GateDeny {
  allow: false;
  preflight?: false;
  status: number;
  code: string;
  detail: string;
  wwwAuthenticate: string | null;
  /** `application/problem+json` body. */
  body: string;
  route: string | null;
  /** Headers to put on the response: `RateLimit-Policy`, `RateLimit` and, on a 429,
   * `Retry-After`. */
  responseHeaders: Record<string, string>;
  /** On a 429 (AUTH-016): seconds until the request may pass; otherwise null. */
  retryAfter: number | null;
}

/** The request may pass. */
export interface GateAllow {
  allow: true;
  preflight?: false;
  status: 200;
  code: null;
  reason: 'authenticated' | 'public' | 'anonymous' | 'disabled' | 'shadow';
  identity: GateIdentity | null;
  /** Identity headers to add when forwarding. */
  headers: Record<string, string>;
  /** Incoming headers to remove before forwarding, by exact name: every identity header name
   * (configured and default) and the request's own header names that read as one of them
   * (`X_User_Id`, `x.user.roles`). Delete each one; the matching is done by the core. */
  stripHeaders: string[];
  route: string | null;
  /** The normalized path that was checked (decoded segments). */
  path: string | null;
  /** The same path percent-encoded for the origin by the core: forward this one as is. */
  forwardPath: string | null;
  /** On a shadow route: the denial that was not enforced. */
  shadow: GateDeny | null;
  /** Headers to put on the response to the client (`RateLimit-Policy`, `RateLimit` on
   * rate-limited routes). */
  responseHeaders: Record<string, string>;
}

/**
 * A CORS preflight the gate answers itself (`cors.preflight`): respond with `status` (204),
 * `headers` and no body. Never forward it to the origin; `allow` is `false` so that a host
 * that only forwards on `allow` cannot forward it by mistake.
 */
export interface GatePreflight {
  allow: false;
  preflight: true;
  status: 204;
  code: null;
  reason: 'preflight';
  /** `Access-Control-Allow-Origin`, `-Allow-Methods`, `-Allow-Headers`, `-Max-Age`,
   * `-Allow-Credentials` (as configured) and `Vary`. */
  headers: Record<string, string>;
  route: null;
}

/** Check `preflight` first (answer it), then `allow` (forward) or deny. */
export type GateDecision = GateAllow | GateDeny | GatePreflight;

/** A stored API key record (no secret: its SHA-256, hex). */
export interface ApiKeyRecord {
  id: string;
  account: string;
  name: string;
  hash: string;
  roles: string[];
  permissions: string[];
  createdAt: number;
  expiresAt: number;
  revoked: boolean;
}

/** The answer of `RateLimitStore.compareAndSet`. */
export type CompareAndSetResult = { ok: true } | { ok: false; current: string | null };

/**
 * A shared rate-limit store (Redis, a Durable Object ...): atomic operations only, never
 * get-then-put. Values are opaque strings the core writes and parses strictly.
 */
export interface RateLimitStore {
  /** The config's `store` this provides: `redis`, `kv` or `durable-object`. */
  readonly kind: 'redis' | 'kv' | 'durable-object';
  /** The raw value under `key` (`null` when absent). */
  load(key: string): Promise<string | null> | string | null;
  /** Atomically: if the value under `key` equals `expected` (`null`: absent), set it to
   * `next` with a time to live of `ttlMs` and answer `{ ok: true }`; else answer
   * `{ ok: false, current }` with the value it holds. */
  compareAndSet(key: string, expected: string | null, next: string, ttlMs: number): Promise<CompareAndSetResult> | CompareAndSetResult;
}

/** Storage the gate consults (Workers KV, Redis, a database ...). */
export interface GateStore {
  /** The shared store for rate-limit policies with `store: "redis" | "kv" | "durable-object"`. */
  rateLimit?: RateLimitStore;
  apiKey?(keyId: string): ApiKeyRecord | null | undefined | Promise<ApiKeyRecord | null | undefined>;
  /** `false` (or `0`, as Redis answers) when not revoked, `true` (or `1`) when revoked.
   * Anything else is a store error: the request is denied (AUTH-015, fail closed). */
  isRevoked?(id: string, nowSeconds: number): boolean | number | Promise<boolean | number>;
  /** The session record stored under `hash` (the SHA-256 of the session id, hex: see
   * `SessionManager`), or null. Needed by a `{"cookie": ..., "session": true}` token source. */
  session?(hash: string): SessionRecordLike | null | undefined | Promise<SessionRecordLike | null | undefined>;
}

/** A stored session as the gate reads it (`SessionManager` stores these). */
export interface SessionRecordLike {
  hash: string;
  userId: string;
  roles?: string[];
  permissions?: string[];
  org?: string | null;
  /** Unix seconds. */
  expiresAt: number;
  revoked?: boolean;
}

/** Options of `Gate.create`. */
export interface GateOptions {
  /**
   * Environment variables for `{"env": "NAME"}` config values and `AUTH_ENABLED`. Default:
   * `process.env` on Node (the Node entries); none in browsers and workerd (pass it there).
   */
  env?: Record<string, string | undefined>;
  store?: GateStore;
  /** The `custom` provider's verifier: claims (with `sub`) or null to refuse. */
  customVerify?(provider: string, token: string): Record<string, unknown> | null | Promise<Record<string, unknown> | null>;
  /** A custom `fetch` (default: `globalThis.fetch`). */
  fetch?: typeof fetch;
  /** Current time in ms (default `Date.now`). */
  now?(): number;
  /** Fetch timeout for discovery and introspection, ms (default 5000). */
  timeoutDuration?: number;
  /** Timeout of one API-key, revocation or session lookup in `store`, ms (default 1000). A
   * lookup that throws or takes longer is a store error: 500 AUTH-015 (fail closed). Rate-limit
   * steps use their policy's `timeoutMs` and `onStoreError` instead. */
  storeTimeout?: number;
  /** Minimum ms between JWKS refetches caused by unknown `kid`s, per provider (default 30000);
   * passed to the JWKS cache policy, which also applies its refetch budget. */
  cooldownDuration?: number;
  /**
   * Called once per decision with a redacted summary (no token, key, secret, claims or
   * headers): for logs and metrics. Runs after the decision is made; a hook that throws (or
   * returns a rejected promise) is ignored and never changes the decision.
   */
  onDecision?(summary: DecisionSummary): void | Promise<void>;
}

/** What `GateOptions.onDecision` receives: no token, key, secret, claims or headers. */
export interface DecisionSummary {
  /** The matched route's name or pattern (null: none matched, or a preflight). */
  route: string | null;
  allow: boolean;
  /** The decision's HTTP status (200 allow, 204 preflight, 401/403/429/500... deny). */
  status: number;
  /** The AUTH code of a denial (null on allow). */
  code: string | null;
  /** The identity's provider on an authenticated allow (`apiKey` for API keys), else null. */
  provider: string | null;
  /** The identity's subject on an authenticated allow, else null. */
  sub: string | null;
  /** Wall-clock time of the decision, ms (store and network I/O included). */
  latencyMs: number;
}

const monotonic = (): number => (typeof globalThis.performance?.now === 'function' ? globalThis.performance.now() : Date.now());

/** Calls the hook with the summary; nothing it does reaches the decision. */
function report(hook: GateOptions['onDecision'], d: GateDecision, started: number): void {
  if (typeof hook !== 'function') return;
  const identity = d.allow ? d.identity : null;
  const summary: DecisionSummary = {
    route: d.route ?? null,
    allow: d.allow,
    status: d.status,
    code: d.code ?? null,
    provider: identity?.provider ?? null,
    sub: identity?.sub ?? null,
    latencyMs: monotonic() - started,
  };
  try {
    const r: unknown = hook(summary);
    if (r && typeof (r as Promise<void>).then === 'function') (r as Promise<void>).then(undefined, () => {});
  } catch {
    // A logging hook never changes a decision.
  }
}

/** A signature check the core asks of the host (host crypto mode). */
interface VerifyCheck {
  index: number;
  alg: AsymAlg;
  jwk: JsonWebKeyLike;
  input: string;
  signature: string;
}

/** Most imported host keys a gate keeps (then it starts again from empty). */
const MAX_HOST_KEYS = 256;

type Io =
  | { type: 'verify'; checks: VerifyCheck[] }
  | { type: 'jwks'; provider: string; url: string; refresh: boolean }
  | { type: 'discovery'; provider: string; url: string }
  | { type: 'introspect'; provider: string; url: string; token: string; authorization: string; body: string }
  | { type: 'custom'; provider: string; token: string }
  | { type: 'apiKey'; keyId: string }
  | { type: 'revoked'; id: string }
  | { type: 'session'; hash: string }
  | { type: 'rateLimitLoad'; policy: string; key: string; store: string; timeoutMs: number }
  | {
      type: 'rateLimitStore';
      policy: string;
      key: string;
      store: string;
      expected: string | null;
      version: string | null;
      new: string;
      ttlMs: number;
      timeoutMs: number;
    };

const UTF8 = new TextEncoder();
const MAX_STEPS = 64;

/** Resolves with the promise's value, or rejects after `ms`. */
/** Default `storeTimeout` (ms). */
const STORE_TIMEOUT_MS = 1000;
/** What a failed store lookup hands the core: not a record nor an answer, so the core's strict
 * parse makes it a store error (AUTH-015), as the Rust Worker does for a KV error. */
const STORE_ERROR = 'store error';

async function withTimeout<T>(p: Promise<T> | T, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      Promise.resolve(p),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('store timeout')), ms);
      }),
    ]);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

/** A host clock reading (ms) as it reaches the core; anything but a number reaches the core
 * as `NaN`, which it refuses (AUTH-015): a bad clock never means 1970. */
function coreMillis(ms: unknown): number {
  return typeof ms === 'number' ? ms : NaN;
}

/** The same reading in seconds (for the calls that take seconds). */
function coreSeconds(ms: unknown): number {
  return typeof ms === 'number' ? ms / 1000 : NaN;
}

function headerPairs(h: GateRequest['headers']): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  if (!h) return out;
  if (typeof (h as Headers).forEach === 'function' && !Array.isArray(h)) {
    (h as Headers).forEach((v, k) => out.push([k, v]));
    return out;
  }
  if (Array.isArray(h)) return h.map(([k, v]) => [String(k), String(v)]);
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined) continue;
    for (const x of Array.isArray(v) ? v : [v]) out.push([k, String(x)]);
  }
  return out;
}

async function boundedFetch(doFetch: typeof fetch, url: string, init: RequestInit, timeout: number): Promise<Uint8Array> {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), timeout);
  try {
    const res = await doFetch(url, { ...init, redirect: 'manual', signal: ctl.signal });
    if (res.status !== 200) {
      await res.body?.cancel().catch(() => {});
      throw new Error(`status ${res.status}`);
    }
    // Streamed and bounded by the core's limit: an endless or oversized body is cut off.
    return await readBounded(res, defaultLimits().maxResponseBytes, () => new Error('response too large'), ctl.signal);
  } finally {
    clearTimeout(timer);
  }
}

/** The policy-governed key source behind a `createRemoteJWKSet` function. */
function sourceOf(remote: RemoteJWKSFunction): KeySource {
  return (remote as unknown as { [KEY_SOURCE]: KeySource })[KEY_SOURCE];
}

let DEFAULT_ENV: (() => Record<string, string | undefined>) | undefined;

/**
 * @internal The environment `Gate.create` reads when `options.env` is not given: the Node
 * entries set `process.env`; browsers and workerd have none (pass `env` there).
 */
export function setupDefaultEnv(f: () => Record<string, string | undefined>): void {
  DEFAULT_ENV = f;
}

/** @internal An option of the CLI's diagnostics (`edgegate ratelimit status`, `health`): the
 * gate is only inspected, never asked to decide, so the host pieces a decision needs
 * (stores, a custom verifier) are not required. Not exported by the package. */
export const INSPECT_ONLY: unique symbol = Symbol('edgegate.inspectOnly') as never;

/** Only `Gate.create` may construct a `Gate`. */
const CREATE: unique symbol = Symbol('Gate.create') as never;

/** The gate: a validated config and the I/O the core asks for. */
export class Gate {
  readonly #core: GateCoreHandle;
  readonly #opts: GateOptions;
  readonly #remotes = new Map<string, RemoteJWKSFunction>();
  /** This runtime's native crypto (node:crypto, WebCrypto): RSA/ECDSA/EdDSA checks. */
  #host: HostCrypto | undefined;
  /** Keys imported into `#host`, by algorithm and JWK. */
  readonly #hostKeys = new Map<string, unknown>();
  /** Warnings to log loudly at every start (e.g. the gate is disabled). */
  readonly warnings: readonly string[];

  private constructor(core: GateCoreHandle, opts: GateOptions, token?: typeof CREATE) {
    if (token !== CREATE) throw new ConfigError('edgegate: use Gate.create(config, options) (options.env: the environment; on Node it defaults to process.env), not new Gate(...)');
    this.#core = core;
    this.#opts = opts;
    CORES.set(this, core);
    this.warnings = Object.freeze(JSON.parse(core.warnings()) as string[]);
  }

  /** Validates `config` (an object or JSON text). Throws `ConfigError` (AUTH-015) naming the bad field. */
  static create(config: GateConfig | string, options: GateOptions = {}): Gate {
    const text = typeof config === 'string' ? config : JSON.stringify(config);
    if (typeof text !== 'string') throw new ConfigError('config: expected an object or JSON text');
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(options.env ?? DEFAULT_ENV?.() ?? {})) if (typeof v === 'string') env[k] = v;
    const W = gateBinding() as { GateCore: new (config: string, env: string, hostCrypto?: boolean) => GateCoreHandle };
    // RSA/ECDSA/EdDSA signatures are checked by the runtime's crypto (node:crypto, WebCrypto)
    // when there is one: the core asks for each check (`verify` steps) and keeps the verdicts.
    let native: HostCrypto | undefined;
    try {
      native = hostCrypto();
    } catch {
      native = undefined;
    }
    let core: GateCoreHandle;
    try {
      core = new W.GateCore(text, JSON.stringify(env), native !== undefined);
    } catch (e) {
      throw fromCore(e, 'AUTH-015');
    }
    // What the config needs from the host is the core's answer; a missing piece is refused
    // here, at start-up, not on every request.
    const needs = JSON.parse(core.requirements()) as { customProviders: string[]; revocation: boolean };
    let missing: ConfigError | undefined;
    if (needs.customProviders.length > 0 && typeof options.customVerify !== 'function') {
      missing = new ConfigError(`options.customVerify: required by the custom provider ${JSON.stringify(needs.customProviders[0])}`, { reason: 'options.customVerify' });
    } else if (needs.revocation && typeof options.store?.isRevoked !== 'function') {
      missing = new ConfigError('options.store.isRevoked: required because revocation is enabled', { reason: 'options.store.isRevoked' });
    }
    const inspectOnly = (options as { [INSPECT_ONLY]?: boolean })[INSPECT_ONLY] === true;
    if (inspectOnly) missing = undefined;
    if (missing) {
      core.free();
      throw missing;
    }
    // The core says which shared stores the config needs; a host that cannot provide one
    // refuses the config at start-up, naming the field.
    const needed = JSON.parse(core.requiredStores()) as Array<{ store: string; path: string }>;
    for (const { store, path } of inspectOnly ? [] : needed) {
      const rl = options.store?.rateLimit;
      if (!rl || rl.kind !== store) {
        core.free();
        throw new ConfigError(`${path}: this host has no ${store} store (pass options.store.rateLimit of kind "${store}")`, { reason: path });
      }
    }
    const gate = new Gate(core, options, CREATE);
    gate.#host = native;
    if (inspectOnly) INSPECTED.add(gate);
    return gate;
  }

  /** Of `names` (incoming header names), the ones the gate strips before forwarding (they
   * read as identity headers, configured or default). For hosts that let a request through
   * without a decision (an anonymous request on an optional route). */
  strippedHeaders(names: readonly string[]): string[] {
    return JSON.parse(this.#core.strippedHeaders(JSON.stringify(names))) as string[];
  }

  /** Decides one request, doing whatever I/O the core asks for. */
  async decide(request: GateRequest): Promise<GateDecision> {
    if (INSPECTED.has(this)) throw new ConfigError('gate: created for inspection only; it does not decide');
    const started = monotonic();
    const d = await this.#decide(request);
    report(this.#opts.onDecision, d, started);
    return d;
  }

  async #decide(request: GateRequest): Promise<GateDecision> {
    const req = JSON.stringify({
      method: String(request.method),
      path: String(request.path),
      headers: headerPairs(request.headers),
      clientCert: request.clientCert ?? null,
      clientIp: typeof request.clientIp === 'string' ? request.clientIp : null,
      tlsClientAuth: request.tlsClientAuth ?? null,
    });
    // This request's own scope in the core: every answer below goes to it, so concurrent
    // decisions never see each other's answers (DESIGN.md: the step protocol is per request).
    let handle: RequestHandle;
    try {
      handle = this.#core.begin(req);
    } catch (e) {
      throw fromCore(e, 'AUTH-015');
    }
    try {
      await this.#refreshStale(handle);
      for (let i = 0; i < MAX_STEPS; i++) {
        const now = (this.#opts.now ?? Date.now)();
        let step: { done?: GateDecision; need?: Io };
        try {
          step = JSON.parse(handle.decideAt(coreMillis(now)));
        } catch (e) {
          throw fromCore(e, 'AUTH-015');
        }
        if (step.done) return step.done;
        if (!step.need) break;
        await this.#perform(handle, step.need, now);
      }
      throw new ConfigError('gate: no decision after too many steps');
    } finally {
      handle.free();
    }
  }

  /** The remote set's key document with the instant its cache policy stops allowing it
   * (past `maxStale` the core withdraws the keys: AUTH-007 when no refresh succeeds). */
  #provideKeys(handle: RequestHandle, provider: string, remote: RemoteJWKSFunction): boolean {
    const doc = remote.jwks();
    if (!doc) return false;
    return handle.provideJwks(provider, UTF8.encode(JSON.stringify(doc)), (remote as unknown as { [USABLE_UNTIL](): number | undefined })[USABLE_UNTIL]());
  }

  /** Key sets past their freshness (the remote set's cache policy) are refetched and handed
   * to the core again; on failure the core keeps the keys it has until their `maxStale`. */
  async #refreshStale(handle: RequestHandle): Promise<void> {
    for (const [provider, remote] of this.#remotes) {
      if (remote.fresh) continue;
      try {
        await sourceOf(remote).current();
      } catch {
        continue;
      }
      this.#provideKeys(handle, provider, remote);
    }
  }

  /** The core's signature checks through the runtime's crypto; a check it cannot do (a key
   * it does not import) is answered `undefined`: the core's pure backend decides it. */
  async #verifyChecks(handle: RequestHandle, checks: VerifyCheck[]): Promise<void> {
    const native = this.#host;
    for (const c of checks) {
      let ok: boolean | undefined;
      if (native) {
        try {
          const id = `${c.alg} ${JSON.stringify(c.jwk)}`;
          let key = this.#hostKeys.get(id);
          if (key === undefined) {
            key = await native.importKey(c.jwk, c.alg);
            if (this.#hostKeys.size >= MAX_HOST_KEYS) this.#hostKeys.clear();
            this.#hostKeys.set(id, key);
          }
          ok = (await native.verify(c.alg, key, c.input, c.signature)) === true;
        } catch {
          ok = undefined;
        }
      }
      handle.provideVerdict(c.index, ok);
    }
  }

  async #perform(handle: RequestHandle, io: Io, now: number): Promise<void> {
    const o = this.#opts;
    const doFetch = o.fetch ?? ((...a: Parameters<typeof fetch>) => globalThis.fetch(...a));
    const timeout = o.timeoutDuration ?? JWKS_DEFAULTS.timeoutDuration;
    const storeTimeout = typeof o.storeTimeout === 'number' && o.storeTimeout > 0 ? o.storeTimeout : STORE_TIMEOUT_MS;
    switch (io.type) {
      case 'verify':
        await this.#verifyChecks(handle, io.checks);
        return;
      case 'jwks': {
        let remote = this.#remotes.get(io.provider);
        if (!remote) {
          remote = createRemoteJWKSet(io.url, { fetch: o.fetch, timeoutDuration: timeout, cooldownDuration: o.cooldownDuration, [CLOCK]: o.now } as RemoteJWKSetOptions);
          this.#remotes.set(io.provider, remote);
        }
        // Whether to fetch is the core's JWKS cache policy (src/jose/jwks_cache.rs), the same one
        // createRemoteJWKSet applies: freshness, stale-if-error, backoff after a failure, and
        // the cooldown + refetch budget for unknown kids (io.refresh). Past maxStale the
        // policy fails (AUTH-007) and the core withdraws the keys it holds.
        let ok = true;
        try {
          const source = sourceOf(remote);
          if (io.refresh) await source.unknownKid?.();
          else await source.current();
        } catch {
          ok = false;
        }
        if (!ok || !this.#provideKeys(handle, io.provider, remote)) handle.provideJwksError(io.provider);
        return;
      }
      case 'discovery': {
        try {
          const body = await boundedFetch(doFetch, io.url, { headers: { accept: 'application/json' } }, timeout);
          handle.provideDiscovery(io.provider, body);
        } catch {
          handle.provideDiscoveryError(io.provider);
        }
        return;
      }
      case 'introspect': {
        try {
          // The core built the request (body and Basic client credentials).
          const body = await boundedFetch(
            doFetch,
            io.url,
            {
              method: 'POST',
              headers: { authorization: io.authorization, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
              body: io.body,
            },
            timeout,
          );
          handle.provideIntrospection(io.provider, io.token, body);
        } catch {
          handle.provideIntrospection(io.provider, io.token, undefined);
        }
        return;
      }
      case 'custom': {
        let claims: Record<string, unknown> | null = null;
        if (o.customVerify) {
          try {
            claims = await o.customVerify(io.provider, io.token);
          } catch {
            claims = null;
          }
        }
        handle.provideCustom(io.provider, io.token, claims ? JSON.stringify(claims) : undefined);
        return;
      }
      case 'apiKey': {
        // A store that throws or answers after storeTimeout is a store error (AUTH-015, fail
        // closed): never "unknown key", never a hang, never a rejected decide().
        let rec: unknown;
        try {
          rec = o.store?.apiKey ? await withTimeout(o.store.apiKey(io.keyId), storeTimeout) : null;
        } catch {
          rec = STORE_ERROR;
        }
        handle.provideApiKey(io.keyId, rec === null || rec === undefined ? undefined : JSON.stringify(rec));
        return;
      }
      case 'revoked': {
        // Fail closed: revocation is on in the config, so a store must answer.
        if (!o.store?.isRevoked) throw new ConfigError('gate: the config enables revocation but options.store.isRevoked is missing');
        // The raw answer goes to the core: only `false`/`0` mean "not revoked" there;
        // anything else denies (finding 3: `1`, `"true"`, objects failed open).
        // A store that throws or answers after storeTimeout: a store error (AUTH-015).
        let revoked: unknown;
        try {
          revoked = await withTimeout(o.store.isRevoked(io.id, Math.floor(now / 1000)), storeTimeout);
        } catch {
          revoked = STORE_ERROR;
        }
        handle.provideRevoked(io.id, revoked === undefined ? undefined : JSON.stringify(revoked));
        return;
      }
      case 'session': {
        // No session store: no session is known (AUTH-008).
        let rec: unknown;
        try {
          rec = o.store?.session ? await withTimeout(o.store.session(io.hash), storeTimeout) : null;
        } catch {
          rec = STORE_ERROR;
        }
        handle.provideSession(io.hash, rec === null || rec === undefined ? undefined : JSON.stringify(rec));
        return;
      }
      case 'rateLimitLoad': {
        // A store that is down, slow (past the policy's timeoutMs) or answers something that
        // is not a string or null is a store error: the policy's onStoreError applies (core).
        const rl = o.store?.rateLimit;
        try {
          if (!rl) throw new Error('no rate-limit store');
          const v: unknown = await withTimeout(rl.load(io.key), io.timeoutMs);
          if (v !== null && v !== undefined && typeof v !== 'string') throw new Error('bad answer');
          handle.provideRateLimitState(io.policy, io.key, v ?? undefined, undefined);
        } catch {
          handle.provideRateLimitError(io.policy, io.key);
        }
        return;
      }
      case 'rateLimitStore': {
        const rl = o.store?.rateLimit;
        try {
          if (!rl) throw new Error('no rate-limit store');
          const r: unknown = await withTimeout(rl.compareAndSet(io.key, io.expected, io.new, io.ttlMs), io.timeoutMs);
          const a = r as { ok?: unknown; current?: unknown } | null;
          if (a && a.ok === true) handle.provideRateLimitStored(io.policy, io.key, true, undefined);
          else if (a && a.ok === false && (a.current === null || a.current === undefined || typeof a.current === 'string'))
            handle.provideRateLimitStored(io.policy, io.key, false, (a.current as string | null | undefined) ?? undefined);
          else throw new Error('bad answer');
        } catch {
          handle.provideRateLimitError(io.policy, io.key);
        }
        return;
      }
    }
  }
}

/** What `createApiKey` needs. */
export interface NewApiKey {
  account: string;
  name?: string;
  roles?: string[];
  permissions?: string[];
  /** Unix seconds, at most one year from now. */
  expiresAt: number;
}

/**
 * Creates an API key (`egk_...`). Show `key` once; store `record` (it holds only the key's
 * SHA-256). Randomness comes from `crypto.getRandomValues`.
 */
export function createApiKey(spec: NewApiKey, options: { now?: number } = {}): { key: string; record: ApiKeyRecord } {
  const W = gateBinding() as { createApiKey(spec: string, random: Uint8Array, now: number): string };
  const random = new Uint8Array(API_KEY_RANDOM_BYTES);
  globalThis.crypto.getRandomValues(random);
  const now = coreSeconds(options.now === undefined ? Date.now() : options.now);
  try {
    return JSON.parse(W.createApiKey(JSON.stringify(spec), random, now));
  } catch (e) {
    throw fromCore(e, 'AUTH-015');
  }
}
