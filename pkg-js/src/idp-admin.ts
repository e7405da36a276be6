/**
 * Identity-provider admin lookups: a user's profile from the Auth0 Management API or the
 * Keycloak Admin API, with client credentials (the `AUTH_API_*` settings). The rules (where
 * the token and the users are, what a status means, what an answer's body is, the profile
 * mapping, the URL rule) are the core's (`src/gate/idp_admin.rs`); this file does the I/O:
 * fetch with a timeout and a bounded body, the access-token cache (single flight, refreshed
 * before `expires_in`, re-fetched once on a 401), and the bounded LRU of answers (with a
 * shorter negative cache for unknown users and one request per id in flight).
 *
 * Endpoints (checked against the providers' documentation, cited in the core module):
 * Auth0 `POST {base}/oauth/token` (JSON, `audience: {base}/api/v2/`) and
 * `GET {base}/api/v2/users/{id}`; Keycloak (base `<server>/admin/realms/<realm>`)
 * `POST <server>/realms/<realm>/protocol/openid-connect/token` (form-encoded) and
 * `GET {base}/users/{id}`.
 */
import { defaultLimits, durationOption, gateBinding } from './api.js';
import { AuthError, ConfigError, fromCore, isAuthError } from './errors.js';
import { readBounded } from './remote.js';

/** Which admin API. */
export type AdminProviderName = 'auth0' | 'keycloak';

/** Options of `createAdminClient`. */
export interface AdminClientOptions {
  /** `auth0` (default) or `keycloak`. */
  provider?: AdminProviderName;
  /** Auth0: the tenant URL (`https://tenant.eu.auth0.com`); Keycloak: `<server>/admin/realms/<realm>`. */
  baseUrl: string;
  /** The service account's client id. */
  clientId: string;
  /** The service account's client secret (never in an error message). */
  clientSecret: string;
  /** Timeout of each request (whole request and body), ms (default 5000). */
  timeoutMs?: number;
  /** How long a user's profile is reused, ms (default 60000; 0: not cached). */
  cacheTtlMs?: number;
  /** How long "user not found" is reused, ms (default: 5000, at most `cacheTtlMs`). */
  negativeCacheTtlMs?: number;
  /** Most cached answers; the least recently used goes first (default 1000; 0: no cache). */
  maxCacheEntries?: number;
  /** Largest answer body accepted, bytes (default: the core's response limit, 512 KiB). */
  maxResponseBytes?: number;
  /** A custom `fetch` (default: `globalThis.fetch`). */
  fetch?: typeof fetch;
  /** The clock, ms (default `Date.now`). */
  now?: () => number;
}

/** A user's profile, the same for both APIs. */
export interface AdminUserProfile {
  /** Auth0 `user_id`, Keycloak `id`. */
  id: string;
  email: string | null;
  /** Auth0 `email_verified`, Keycloak `emailVerified`. */
  emailVerified: boolean;
  /** Auth0 `name`; Keycloak `firstName lastName`. */
  name: string | null;
  /** Auth0 `username` or `nickname`; Keycloak `username`. */
  username: string | null;
  /** Auth0 `picture`; Keycloak: `null`. */
  picture: string | null;
  /** Auth0: not `blocked`; Keycloak `enabled`. */
  enabled: boolean;
  provider: AdminProviderName;
}

/** Options of `getUser`. */
export interface GetUserOptions {
  /** A disabled (Auth0: blocked) user is an error, AUTH-018. */
  requireEnabled?: boolean;
}

/** An admin API client (`createAdminClient`). */
export interface AdminClient {
  /** `auth0` or `keycloak`. */
  readonly provider: AdminProviderName;
  /**
   * A user's profile. Unknown user: AUTH-017 (404); the API refusing the credentials or the
   * token, an outage, a timeout, a malformed or oversized answer: AUTH-014 (502);
   * `requireEnabled` and a disabled user: AUTH-018 (403).
   */
  getUser(id: string, options?: GetUserOptions): Promise<AdminUserProfile>;
  /** Forgets the cached answers and the access token. */
  clear(): void;
}

/** @internal The core's bindings for this module (src/wasm/idp.rs). */
interface IdpBinding {
  IdpAdminConfig: new (provider: string, baseUrl: string, clientId: string, clientSecret: string) => { readonly tokenUrl: string; readonly audience?: string; userUrl(id: string): string };
  idpAdminStatus(provider: string, step: number, status: number, retried: boolean): number;
  idpAdminToken(provider: string, body: Uint8Array): [string, number];
  idpAdminUser(provider: string, id: string, body: Uint8Array, requireEnabled: boolean): string;
  idpAdminRequireEnabled(enabled: boolean): void;
}

const STEP_TOKEN = 0;
const STEP_USER = 1;
const RETRY_WITH_NEW_TOKEN = 1;
const MAX_CACHE_ENTRIES = 1_000_000;

function core<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw fromCore(e, 'AUTH-014');
  }
}

/** The environment variables of `createAdminClientFromEnv`, by option. */
const ENV = { baseUrl: 'AUTH_API_BASEURL', clientId: 'AUTH_API_CLIENT_ID', clientSecret: 'AUTH_API_CLIENT_SECRET' } as const;

/**
 * A client for the Auth0 Management API or the Keycloak Admin API. Throws `ConfigError`
 * (AUTH-015, `reason` = the option) for a bad option: an unknown provider, a base URL that
 * is not https (http only to localhost / 127.0.0.1 / [::1]), a Keycloak URL that is not
 * `<server>/admin/realms/<realm>`, an empty client id or secret.
 */
export function createAdminClient(options: AdminClientOptions): AdminClient {
  if (!options || typeof options !== 'object') throw new ConfigError('createAdminClient: options are required');
  const b = gateBinding() as IdpBinding;
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  const provider = (options.provider ?? 'auth0') as AdminProviderName;
  const cfg = core(() => new b.IdpAdminConfig(str(provider), str(options.baseUrl), str(options.clientId), str(options.clientSecret)));
  const clientId = options.clientId;
  const clientSecret = options.clientSecret;
  const timeout = durationOption(options.timeoutMs, 5000, 'timeoutMs');
  const ttl = durationOption(options.cacheTtlMs, 60_000, 'cacheTtlMs');
  const negativeTtl = Math.min(durationOption(options.negativeCacheTtlMs, 5000, 'negativeCacheTtlMs'), ttl);
  const maxEntries = options.maxCacheEntries ?? 1000;
  if (!Number.isInteger(maxEntries) || maxEntries < 0 || maxEntries > MAX_CACHE_ENTRIES) throw new ConfigError(`createAdminClient: maxCacheEntries: expected an integer 0..${MAX_CACHE_ENTRIES}`, { reason: 'maxCacheEntries' });
  const limit = defaultLimits().maxResponseBytes;
  const maxBytes = options.maxResponseBytes ?? limit;
  if (!Number.isInteger(maxBytes) || maxBytes < 1 || maxBytes > limit) throw new ConfigError(`createAdminClient: maxResponseBytes: expected an integer 1..${limit}`, { reason: 'maxResponseBytes' });
  const doFetch = options.fetch ?? ((...a: Parameters<typeof fetch>) => globalThis.fetch(...a));
  const clock = options.now ?? Date.now;
  const api = provider === 'keycloak' ? 'Keycloak Admin API' : 'Auth0 Management API';

  /** One request: timeout over the whole exchange, status judged by the core, bounded body. */
  async function call(url: string, init: RequestInit, step: number, retried: boolean): Promise<{ retry: boolean; body?: Uint8Array }> {
    const ctl = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      if (Number.isFinite(timeout))
        timer = setTimeout(() => {
          ctl.abort();
          reject(new AuthError('AUTH-014', `${api}: request timed out after ${timeout} ms`));
        }, timeout);
    });
    timedOut.catch(() => {});
    const exchange = async () => {
      let res: Response;
      try {
        res = await doFetch(url, { ...init, redirect: 'manual', signal: ctl.signal });
      } catch (e) {
        if (ctl.signal.aborted) throw new AuthError('AUTH-014', `${api}: request timed out after ${timeout} ms`);
        throw new AuthError('AUTH-014', `${api}: request failed (the API cannot be reached)`, { cause: e });
      }
      let action: number;
      try {
        action = core(() => b.idpAdminStatus(provider, step, res.status, retried));
      } finally {
        if (res.status !== 200) await res.body?.cancel().catch(() => {});
      }
      if (action === RETRY_WITH_NEW_TOKEN) return { retry: true };
      const body = await readBounded(res, maxBytes, () => new AuthError('AUTH-014', `${api}: answer over ${maxBytes} bytes`), ctl.signal).catch((e) => {
        if (isAuthError(e)) throw e;
        throw new AuthError('AUTH-014', ctl.signal.aborted ? `${api}: request timed out after ${timeout} ms` : `${api}: the answer could not be read`);
      });
      return { retry: false, body };
    };
    try {
      return await Promise.race([exchange(), timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  // The access token: cached until the core's `cacheMs` (expires_in minus a skew), one
  // token request in flight for every caller.
  let token: { value: string; until: number } | undefined;
  let tokenFlight: Promise<string> | undefined;
  let generation = 0;

  async function fetchToken(): Promise<string> {
    const init: RequestInit =
      provider === 'auth0'
        ? { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret, audience: cfg.audience }) }
        : { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret }).toString() };
    const gen = generation;
    const { body } = await call(cfg.tokenUrl, init, STEP_TOKEN, false);
    const [value, cacheMs] = core(() => b.idpAdminToken(provider, body!));
    if (gen === generation) token = { value, until: clock() + cacheMs };
    return value;
  }

  function accessToken(): Promise<string> {
    if (token && clock() < token.until) return Promise.resolve(token.value);
    token = undefined;
    return (tokenFlight ??= fetchToken().finally(() => {
      tokenFlight = undefined;
    }));
  }

  async function lookup(id: string, url: string): Promise<AdminUserProfile> {
    let bearer = await accessToken();
    let r = await call(url, { headers: { authorization: `Bearer ${bearer}`, accept: 'application/json' } }, STEP_USER, false);
    if (r.retry) {
      // The API refused the cached token (revoked, rotated keys): one new token, one retry.
      if (token?.value === bearer) token = undefined;
      bearer = await accessToken();
      r = await call(url, { headers: { authorization: `Bearer ${bearer}`, accept: 'application/json' } }, STEP_USER, true);
    }
    return JSON.parse(core(() => b.idpAdminUser(provider, id, r.body!, false))) as AdminUserProfile;
  }

  // Answers: a bounded LRU (Map order = recency), "not found" for a shorter time; one
  // request per id in flight.
  type Entry = { until: number; user?: AdminUserProfile; notFound?: boolean };
  const cache = new Map<string, Entry>();
  const inflight = new Map<string, Promise<AdminUserProfile>>();

  function remember(id: string, e: Entry): void {
    if (maxEntries === 0 || e.until <= clock()) return;
    cache.delete(id);
    cache.set(id, e);
    while (cache.size > maxEntries) cache.delete(cache.keys().next().value as string);
  }

  function answer(user: AdminUserProfile, opts?: GetUserOptions): AdminUserProfile {
    if (opts?.requireEnabled) core(() => b.idpAdminRequireEnabled(user.enabled));
    return { ...user };
  }

  const notFound = () => new AuthError('AUTH-017', 'user not found');

  return {
    provider,
    async getUser(id: string, opts?: GetUserOptions): Promise<AdminUserProfile> {
      // The core encodes the id and refuses ids that cannot name a user (AUTH-017).
      const url = core(() => cfg.userUrl(typeof id === 'string' ? id : ''));
      const hit = cache.get(id);
      if (hit) {
        if (hit.until > clock()) {
          cache.delete(id);
          cache.set(id, hit);
          if (hit.notFound) throw notFound();
          return answer(hit.user!, opts);
        }
        cache.delete(id);
      }
      let p = inflight.get(id);
      if (!p) {
        const gen = generation;
        p = lookup(id, url)
          .then(
            (user) => {
              if (gen === generation) remember(id, { until: clock() + ttl, user });
              return user;
            },
            (e) => {
              if (gen === generation && isAuthError(e) && e.code === 'AUTH-017') remember(id, { until: clock() + negativeTtl, notFound: true });
              throw e;
            },
          )
          .finally(() => inflight.delete(id));
        inflight.set(id, p);
      }
      return answer(await p, opts);
    },
    clear(): void {
      generation++;
      cache.clear();
      token = undefined;
    },
  };
}

/**
 * `createAdminClient` from the environment: `AUTH_API_PROVIDER` (`auth0` when unset, or
 * `keycloak`), `AUTH_API_BASEURL`, `AUTH_API_CLIENT_ID`, `AUTH_API_CLIENT_SECRET`. A missing
 * or bad variable is a `ConfigError` (AUTH-015) naming it, never showing the secret.
 * `env` defaults to `process.env` on Node (pass it elsewhere, e.g. a Worker's `env`).
 */
export function createAdminClientFromEnv(env?: Record<string, string | undefined>, options: Omit<AdminClientOptions, 'provider' | 'baseUrl' | 'clientId' | 'clientSecret'> = {}): AdminClient {
  const e = env ?? (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  if (!e || typeof e !== 'object') throw new ConfigError('createAdminClientFromEnv: no environment (pass env)');
  const get = (name: string) => {
    const v = e[name];
    return typeof v === 'string' ? v : undefined;
  };
  const provider = get('AUTH_API_PROVIDER') ?? 'auth0';
  const values: Record<string, string> = {};
  for (const [opt, name] of Object.entries(ENV)) {
    const v = get(name);
    if (v === undefined || v === '') throw new ConfigError(`${name} is not set (the identity-provider admin client needs AUTH_API_BASEURL, AUTH_API_CLIENT_ID and AUTH_API_CLIENT_SECRET)`, { reason: `env.${name}` });
    values[opt] = v;
  }
  try {
    return createAdminClient({ ...options, provider: provider as AdminProviderName, baseUrl: values.baseUrl, clientId: values.clientId, clientSecret: values.clientSecret });
  } catch (err) {
    if (!isAuthError(err) || err.code !== 'AUTH-015') throw err;
    const name = err.reason === 'provider' ? 'AUTH_API_PROVIDER' : ENV[err.reason as keyof typeof ENV];
    if (!name) throw err;
    throw new ConfigError(`${name}: ${err.message.replace(/^identity-provider admin client: \w+: /, '')}`, { reason: `env.${name}` });
  }
}
