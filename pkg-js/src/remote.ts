/**
 * `createRemoteJWKSet`: the JS host side of the remote JWKS cache. Every cache decision
 * (fresh, stale-if-error, cooldown, unknown-kid budget, `Cache-Control`) is made by the
 * core (`src/jose/jwks_cache.rs`); this file only fetches, times out, bounds the body and
 * persists.
 */
import { cacheState, defaultLimits, durationOption, fetchableUrl, JWKS_DEFAULTS, importRemote, jwksFunction, type JSONWebKeySet, type JWKSFunction, type KeySetEntry, type KeySource } from './api.js';
import { CACHE_FETCH, CACHE_USE, CACHE_WAIT } from './abi.generated.js';
import { ConfigError, JwksFetchError, isAuthError } from './errors.js';

/** Cache times and keys a host can keep in KV between isolates. */
export interface JWKSCacheSnapshot {
  /** The JWKS document. */
  jwks: JSONWebKeySet;
  /** When it was fetched (ms since the epoch). */
  fetchedAt: number;
  /** Until when it is fresh (ms since the epoch). */
  freshUntil: number;
}

/** Where a remote key set keeps its cache between isolates (e.g. Workers KV, Redis). */
export interface JWKSPersistence {
  /** The last saved snapshot, if any. Called once, before the first fetch. */
  load(): JWKSCacheSnapshot | undefined | null | Promise<JWKSCacheSnapshot | undefined | null>;
  /** Called after every successful fetch. Errors are ignored. */
  save(snapshot: JWKSCacheSnapshot): void | Promise<void>;
}

/** Options of `createRemoteJWKSet` (jose's `RemoteJWKSetOptions`, plus the cache policy). */
export interface RemoteJWKSetOptions {
  /** Freshness when the response has no `Cache-Control: max-age`, ms (default 600000). */
  cacheMaxAge?: number;
  /** Minimum time between refetches caused by unknown `kid`s, ms (default 30000). */
  cooldownDuration?: number;
  /** Fetch timeout (whole request and body), ms (default 5000). */
  timeoutDuration?: number;
  /** How long past freshness stale keys are served while the IdP is down, ms (default 3600000). */
  maxStale?: number;
  /** Minimum time between a failed fetch and the next attempt, ms (default 5000). */
  retryAfterError?: number;
  /** Unknown-`kid` refetches allowed per `cacheMaxAge` window (default 3). */
  refetchBudget?: number;
  /** Extra request headers. */
  headers?: Record<string, string>;
  /** A custom `fetch` (default: `globalThis.fetch`). */
  fetch?: typeof fetch;
  /** Persist / seed hook for a cache shared between isolates. */
  persist?: JWKSPersistence;
  /** Largest JWKS body accepted, bytes (default: the core's `max_jwks_bytes`, 512 KiB). */
  maxBytes?: number;
}

/** A remote key set function, with jose's extra members. */
export interface RemoteJWKSFunction extends JWKSFunction {
  /** Whether the keys are within their freshness lifetime. */
  readonly fresh: boolean;
  /** Fetches now (unless a fetch is in flight or the policy refuses) and resolves when done. */
  reload(): Promise<void>;
  /** The last fetched JWKS document, if any. */
  jwks(): JSONWebKeySet | undefined;
}

/** @internal Option key: the clock (ms) of the host that owns this key set (the `Gate`'s
 * `now` option), so the cache policy and the gate agree on time. */
export const CLOCK = Symbol('edgegate.clock');
/** @internal Method key: the instant (ms) from which the cached keys are past `maxStale`
 * (the core's `JwksCache::usable_until`), `undefined` before the first fetch. */
export const USABLE_UNTIL = Symbol('edgegate.usableUntil');

/** Fetches in flight, by URL + headers + size bound (default fetch only). */
const inFlight = new Map<string, Promise<{ bytes: Uint8Array; cacheControl: string | null }>>();

const USE = CACHE_USE;
const FETCH = CACHE_FETCH;
const WAIT = CACHE_WAIT;

/** A duration option: the core's `Duration` decides (see `durationOption`). */
function duration(v: number | undefined, def: number, field: string): number {
  return durationOption(v, def, field);
}

/**
 * @internal Reads a response body chunk by chunk, at most `max` bytes (a limit from the
 * core's `Limits`): a too-large `content-length` is refused before reading, and the read
 * stops (the stream is cancelled) as soon as the body goes over `max`, or when `signal`
 * aborts. Never buffers a whole oversized body.
 */
export async function readBounded(res: Response, max: number, tooLarge: () => Error, signal?: AbortSignal): Promise<Uint8Array> {
  const len = res.headers.get('content-length');
  if (len !== null && Number(len) > max) {
    await res.body?.cancel().catch(() => {});
    throw tooLarge();
  }
  if (!res.body) {
    const buf = new Uint8Array(await res.arrayBuffer());
    if (buf.byteLength > max) throw tooLarge();
    return buf;
  }
  const reader = res.body.getReader();
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(new Error('aborted'));
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
  aborted.catch(() => {});
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await Promise.race([reader.read(), aborted]);
      if (done) break;
      total += value.byteLength;
      if (total > max) throw tooLarge();
      chunks.push(value);
    }
  } catch (e) {
    await reader.cancel().catch(() => {});
    throw e;
  } finally {
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
  const out = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.byteLength;
  }
  return out;
}

/**
 * A key set function over a remote JWKS (jose's `createRemoteJWKSet`): fetched on first use,
 * cached per `Cache-Control: max-age` (or `cacheMaxAge`), one fetch in flight, refetched for
 * unknown `kid`s within a cooldown and budget, stale keys served while the IdP is down (up
 * to `maxStale`), 200 only, no redirects, bounded body and time. No usable keys = AUTH-007.
 */
export function createRemoteJWKSet(url: URL | string, options: RemoteJWKSetOptions = {}): RemoteJWKSFunction {
  let target: URL;
  try {
    target = new URL(String(url));
  } catch {
    throw new ConfigError('createRemoteJWKSet: invalid URL');
  }
  // The core judges the URL that will be fetched (https anywhere; http only to localhost,
  // 127.0.0.1, [::1]; no userinfo): one rule for the gate and this function.
  const refused = fetchableUrl(target.href);
  if (refused !== undefined) throw new ConfigError(`createRemoteJWKSet: ${refused}`);
  const maxAge = duration(options.cacheMaxAge, JWKS_DEFAULTS.cacheMaxAge, 'cacheMaxAge');
  const cooldown = duration(options.cooldownDuration, JWKS_DEFAULTS.cooldownDuration, 'cooldownDuration');
  const timeout = duration(options.timeoutDuration, JWKS_DEFAULTS.timeoutDuration, 'timeoutDuration');
  const maxStale = duration(options.maxStale, JWKS_DEFAULTS.maxStale, 'maxStale');
  const retry = duration(options.retryAfterError, JWKS_DEFAULTS.retryAfterError, 'retryAfterError');
  const budget = options.refetchBudget ?? JWKS_DEFAULTS.refetchBudget;
  const headers = { accept: 'application/json, application/jwk-set+json', ...(options.headers ?? {}) };
  const doFetch = options.fetch ?? ((...a: Parameters<typeof fetch>) => globalThis.fetch(...a));
  const persist = options.persist;
  const maxBytes = options.maxBytes ?? defaultLimits().maxJwksBytes;
  const clock: () => number = (options as { [CLOCK]?: () => number })[CLOCK] ?? Date.now;
  const shareKey = options.fetch ? undefined : `${target.href}\n${JSON.stringify(headers)}\n${maxBytes}`;

  let state: ReturnType<typeof cacheState> | undefined;
  let current: KeySetEntry | undefined;
  let currentJson: JSONWebKeySet | undefined;
  let inflight: Promise<void> | undefined;
  let loaded: Promise<void> | undefined;
  let loadedDone = false;
  let lastError: unknown;

  const st = () => (state ??= cacheState(maxAge, cooldown, maxStale, retry, budget));

  async function fetchOnce(): Promise<void> {
    const ctrl = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        ctrl.abort();
        reject(new JwksFetchError(`JWKS fetch timed out after ${timeout} ms`));
      }, timeout);
    });
    try {
      const network = async (): Promise<{ bytes: Uint8Array; cacheControl: string | null }> => {
        let res: Response;
        try {
          res = await doFetch(target.href, { headers, redirect: 'manual', signal: ctrl.signal });
        } catch (e) {
          throw new JwksFetchError('JWKS fetch failed', { cause: e });
        }
        if (res.status !== 200) {
          await res.body?.cancel().catch(() => {});
          throw new JwksFetchError(`JWKS response status ${res.status || res.type}`);
        }
        const bytes = await readBounded(res, maxBytes, () => new JwksFetchError(`JWKS response over ${maxBytes} bytes`), ctrl.signal);
        return { bytes, cacheControl: res.headers.get('cache-control') };
      };
      // One fetch in flight per URL (and headers) across key set instances using the
      // default fetch.
      let net: Promise<{ bytes: Uint8Array; cacheControl: string | null }>;
      if (shareKey) {
        let p = inFlight.get(shareKey);
        if (!p) {
          p = network().finally(() => inFlight.delete(shareKey));
          inFlight.set(shareKey, p);
        }
        net = p;
      } else {
        net = network();
      }
      const work = net.then(({ bytes, cacheControl }) => ({ entry: importRemote(bytes), bytes, cacheControl }));
      const { entry, bytes, cacheControl } = await Promise.race([work, timedOut]);
      const now = clock();
      st().fetchSucceeded(now, cacheControl);
      current = entry;
      currentJson = undefined;
      lastError = undefined;
      if (persist) {
        try {
          const snap = st().snapshot();
          currentJson = JSON.parse(new TextDecoder().decode(bytes));
          await persist.save({ jwks: currentJson!, fetchedAt: snap[0], freshUntil: snap[1] });
        } catch {
          /* persistence is best effort */
        }
      }
      currentBytes = bytes;
    } catch (e) {
      st().fetchFailed(clock());
      lastError = isAuthError(e) ? e : new JwksFetchError('JWKS fetch failed', { cause: e });
    } finally {
      clearTimeout(timer);
    }
  }
  let currentBytes: Uint8Array | undefined;

  async function loadPersisted(): Promise<void> {
    if (!persist) return;
    try {
      const snap = await persist.load();
      if (!snap || typeof snap !== 'object' || !snap.jwks) return;
      const jwks = typeof snap.jwks === 'string' ? JSON.parse(snap.jwks) : snap.jwks;
      const entry = importRemote(new TextEncoder().encode(JSON.stringify(jwks)));
      if (st().restore(Number(snap.fetchedAt), Number(snap.freshUntil), clock())) {
        current = entry;
        currentJson = jwks;
      }
    } catch {
      /* a bad snapshot is ignored; the keys are fetched */
    }
  }

  async function keys(unknownKid: boolean, decided?: number): Promise<KeySetEntry | undefined> {
    if (decided === undefined) await (loaded ??= loadPersisted().finally(() => (loadedDone = true)));
    const before = current;
    for (let i = 0; i < 8; i++) {
      const a = i === 0 && decided !== undefined ? decided : st().decide(clock(), unknownKid);
      if (a === USE) {
        if (!current) throw new JwksFetchError('no JWKS keys available');
        return current;
      }
      if (a === FETCH) {
        inflight = fetchOnce().finally(() => {
          inflight = undefined;
        });
        await inflight;
        if (unknownKid) return current !== before ? current : undefined;
        continue;
      }
      if (a === WAIT) {
        if (!inflight) break;
        await inflight;
        if (unknownKid) return current !== before ? current : undefined;
        continue;
      }
      throw lastError instanceof JwksFetchError ? lastError : new JwksFetchError('JWKS unavailable');
    }
    throw new JwksFetchError('JWKS unavailable');
  }

  const source: KeySource = {
    // Hot path: fresh keys are returned synchronously (no promise per verification).
    current: () => {
      if (loadedDone && current) {
        const a = st().decide(clock(), false);
        if (a === USE) return current;
        return keys(false, a) as Promise<KeySetEntry>;
      }
      return keys(false) as Promise<KeySetEntry>;
    },
    unknownKid: () => keys(true),
  };
  const f = jwksFunction(source, async () => source.current()) as RemoteJWKSFunction;
  Object.defineProperties(f, {
    fresh: { get: () => (current ? clock() < (st().snapshot()[1] ?? 0) : false) },
    reload: {
      value: async () => {
        if (inflight) return inflight;
        inflight = fetchOnce().finally(() => {
          inflight = undefined;
        });
        await inflight;
        if (!current && lastError) throw lastError;
      },
    },
    [USABLE_UNTIL]: { value: () => (current ? st().usableUntil() : undefined) },
    jwks: {
      value: () => {
        if (!currentJson && currentBytes) currentJson = JSON.parse(new TextDecoder().decode(currentBytes));
        return currentJson;
      },
    },
  });
  return f;
}
