/**
 * The seed's composable middleware factories, with its option names, mapped onto one gate
 * config each (the decision stays the core's):
 *
 * - `provider` + `providerConfig` -> `providers[0]` (`{type, ...providerConfig}`; unset fields
 *   come from the environment: `AUTH0_DOMAIN`, `JWT_SECRET`, ...);
 * - `publicRoutes` -> public routes first (`/public/*` as `/public/**`: any depth), then one
 *   route for everything else;
 * - `tokenExtraction` -> `tokenSources`;
 * - `roles`, `permissions`, `requireAllRoles` -> that route's `roles`, `permissions`,
 *   `rolesMode`; `roleHierarchy`, `rolePermissions`, `superAdminRoles` -> `rbac`.
 */
import type { ConfigRateLimit, GateConfig } from './config.generated.js';
import { ConfigError } from './errors.js';
import type { AuthContext } from './context.js';
import { Gate, type GateIdentity, type GateOptions, type GateStore } from './gate.js';
import { createRedisStore, type RedisClientLike, type RedisStore } from './redis-store.js';
import { expressHandler, Guard, identityOf, type GuardDecision } from './guard.js';

/** A request as the factories' middleware takes it. */
export interface RequestContextLike {
  method?: string;
  /** Path and query (or `url`). */
  path?: string;
  url?: string;
  headers?: Record<string, string | string[] | undefined> | Headers | Array<[string, string]>;
  clientIp?: string;
}

/** The seed's token extraction strategy. */
export interface TokenExtraction {
  fromHeader?: { name: string; scheme?: string };
  fromCookie?: { name: string };
  fromQuery?: { name: string };
  custom?: unknown;
}

export interface AuthMiddlewareOptions extends GateOptions {
  provider: string;
  providerConfig?: Record<string, unknown>;
  publicRoutes?: string[];
  /** Requests without a credential pass as anonymous; a bad credential is still refused. */
  optional?: boolean;
  tokenExtraction?: TokenExtraction;
  onAuthenticated?(context: AuthContext & { user: GateIdentity }): unknown;
  onError?(error: AuthMiddlewareError, context: RequestContextLike): unknown;
}

export interface AuthMiddlewareError {
  statusCode: number;
  code: string;
  message: string;
  wwwAuthenticate?: string | null;
  /** `application/problem+json` body. */
  body?: string;
}

export interface AuthMiddlewareResult {
  proceed: boolean;
  context?: AuthContext;
  error?: AuthMiddlewareError;
  decision?: GuardDecision;
}

export interface RBACMiddlewareOptions {
  roles?: string[];
  permissions?: string[];
  requireAllRoles?: boolean;
  superAdminRoles?: string[];
  roleHierarchy?: Record<string, string[]>;
  rolePermissions?: Record<string, string[]>;
  custom?(user: GateIdentity, context: AuthContext): boolean | Promise<boolean>;
  onDenied?(result: { reason: string; code: string }, context: AuthContext | undefined): unknown;
}

function routePattern(p: string): string {
  if (typeof p !== 'string' || !p.startsWith('/')) throw new ConfigError(`publicRoutes: expected a path starting with "/", got ${JSON.stringify(p)}`);
  return p.endsWith('/*') ? `${p.slice(0, -1)}**` : p;
}

function tokenSources(t: TokenExtraction | undefined): unknown[] | undefined {
  if (!t) return undefined;
  if (t.custom !== undefined) throw new ConfigError('tokenExtraction.custom: not supported (the gate reads credentials itself); use fromHeader, fromCookie or fromQuery');
  const out: unknown[] = [];
  if (t.fromHeader) out.push(t.fromHeader.scheme === undefined ? { header: t.fromHeader.name } : { header: t.fromHeader.name, scheme: t.fromHeader.scheme });
  if (t.fromCookie) out.push({ cookie: t.fromCookie.name });
  if (t.fromQuery) out.push({ query: t.fromQuery.name });
  return out.length ? out : undefined;
}

/** The `rbac` section and route requirements for RBAC options. */
function rbacParts(o: RBACMiddlewareOptions | undefined): { rbac?: unknown; route: Record<string, unknown> } {
  const route: Record<string, unknown> = {};
  if (!o) return { route };
  if (o.roles?.length) route.roles = o.roles;
  if (o.permissions?.length) route.permissions = o.permissions;
  if (o.requireAllRoles) route.rolesMode = 'all';
  const roles: Record<string, { inherits?: string[]; permissions?: string[] }> = {};
  const def = (r: string) => (roles[r] ??= {});
  for (const [r, kids] of Object.entries(o.roleHierarchy ?? {})) {
    def(r).inherits = [...kids];
    kids.forEach(def);
  }
  for (const [r, perms] of Object.entries(o.rolePermissions ?? {})) def(r).permissions = [...perms];
  const hasRbac = Object.keys(roles).length > 0 || (o.superAdminRoles?.length ?? 0) > 0;
  return { rbac: hasRbac ? { roles, ...(o.superAdminRoles?.length ? { superAdmins: o.superAdminRoles } : {}) } : undefined, route };
}

function authConfig(o: AuthMiddlewareOptions, rbac?: RBACMiddlewareOptions): GateConfig {
  if (typeof o.provider !== 'string') throw new ConfigError('provider: expected a provider type');
  const { type: _t, ...rest } = o.providerConfig ?? {};
  const parts = rbacParts(rbac);
  return {
    ...(tokenSources(o.tokenExtraction) ? { tokenSources: tokenSources(o.tokenExtraction) } : {}),
    providers: [{ type: o.provider, ...rest }],
    ...(parts.rbac ? { rbac: parts.rbac } : {}),
    // `optional` is the core's route rule (no credential: anonymous; a bad one: refused).
    routes: [...(o.publicRoutes ?? []).map((p) => ({ path: routePattern(p), public: true })), { name: 'protected', path: '/**', ...parts.route, ...(o.optional ? { optional: true } : {}) }],
  } as unknown as GateConfig; // built from the caller's options: validated by the core at Gate.create
}

function reqOf(r: RequestContextLike) {
  return { method: String(r.method ?? 'GET'), path: String(r.path ?? r.url ?? '/'), headers: r.headers as never, clientIp: r.clientIp };
}

async function safe(fn: (() => unknown) | undefined): Promise<void> {
  if (!fn) return;
  try {
    await fn();
  } catch (e) {
    console.error('edgegate: callback failed:', e);
  }
}

function errorOf(d: GuardDecision): AuthMiddlewareError {
  if (d.allow || d.preflight) return { statusCode: d.status, code: 'AUTH-013', message: 'preflight' };
  return { statusCode: d.status, code: d.code, message: d.detail, wwwAuthenticate: d.wwwAuthenticate, body: d.body };
}

type RequestMiddleware = ((request: RequestContextLike) => Promise<AuthMiddlewareResult>) & { guard: Guard; on: Guard['on'] };

function requestMiddleware(guard: Guard, o: AuthMiddlewareOptions, custom?: RBACMiddlewareOptions): RequestMiddleware {
  const mw = async (request: RequestContextLike): Promise<AuthMiddlewareResult> => {
    const d = await guard.decide(reqOf(request));
    if (!d.allow) {
      const error = errorOf(d);
      await safe(() => o.onError?.(error, request));
      return { proceed: false, error, decision: d };
    }
    const user = identityOf(d);
    const context: AuthContext = { user, provider: user?.provider, authenticatedAt: new Date(), route: d.route };
    if (user && custom?.custom && d.reason !== 'public') {
      let ok = false;
      try {
        ok = (await custom.custom(user, context)) === true;
      } catch {
        ok = false;
      }
      if (!ok) {
        const error: AuthMiddlewareError = { statusCode: 403, code: 'AUTH-013', message: 'denied by the custom check' };
        await safe(() => custom.onDenied?.({ reason: error.message, code: error.code }, context));
        return { proceed: false, error, decision: d };
      }
    }
    if (user) await safe(() => o.onAuthenticated?.(context as AuthContext & { user: GateIdentity }));
    return { proceed: true, context, decision: d };
  };
  return Object.assign(mw, { guard, on: guard.on.bind(guard) as Guard['on'] });
}

/** Authentication: `(request) => { proceed, context?, error? }`. */
export async function createAuthMiddleware(options: AuthMiddlewareOptions): Promise<RequestMiddleware> {
  const guard = new Guard(authConfig(options), options);
  return requestMiddleware(guard, options);
}

/**
 * RBAC on an authenticated context: `(context) => { proceed, error? }`. The checks are the
 * core's (a gate whose provider is the context's identity: roles, inheritance, wildcard
 * permissions, super-admins), then `custom`.
 */
export function createRBACMiddleware(options: RBACMiddlewareOptions): (context: AuthContext | undefined) => Promise<AuthMiddlewareResult> {
  const parts = rbacParts(options);
  const pendingUsers = new Map<string, GateIdentity>();
  const gate = Gate.create(
    { providers: [{ type: 'custom', name: 'context' }], ...(parts.rbac ? { rbac: parts.rbac } : {}), routes: [{ name: 'rbac', path: '/**', ...parts.route }] },
    {
      customVerify: (_p, token) => {
        const u = pendingUsers.get(token);
        if (!u) return null;
        return { sub: u.sub, roles: u.roles, permissions: u.permissions, exp: Math.floor(Date.now() / 1000) + 60 };
      },
    },
  );
  return async (context) => {
    const user = context?.user;
    const deny = async (statusCode: number, code: string, message: string): Promise<AuthMiddlewareResult> => {
      await safe(() => options.onDenied?.({ reason: message, code }, context));
      return { proceed: false, error: { statusCode, code, message } };
    };
    if (!user) return deny(401, 'AUTH-005', 'authentication required');
    const ticket = `rbac${crypto.randomUUID().replace(/-/g, '')}`;
    pendingUsers.set(ticket, user);
    let d;
    try {
      d = await gate.decide({ method: 'GET', path: '/', headers: { authorization: `Bearer ${ticket}` } });
    } finally {
      pendingUsers.delete(ticket);
    }
    if (!d.allow) return deny(d.status, String(d.code), d.preflight ? 'denied' : d.detail);
    if (options.custom) {
      let ok = false;
      try {
        ok = (await options.custom(user, context!)) === true;
      } catch {
        ok = false;
      }
      if (!ok) return deny(403, 'AUTH-013', 'denied by the custom check');
    }
    return { proceed: true, context };
  };
}

/** Authentication and RBAC in one gate config. */
export async function createProtectedMiddleware(options: { auth: AuthMiddlewareOptions; rbac?: RBACMiddlewareOptions }): Promise<RequestMiddleware> {
  const guard = new Guard(authConfig(options.auth, options.rbac), options.auth);
  return requestMiddleware(guard, options.auth, options.rbac);
}

/** Express middleware with the seed's options: `req.user`, `req.authContext` (and `req.auth`). */
export async function createExpressAuthMiddleware(options: AuthMiddlewareOptions & { rbac?: RBACMiddlewareOptions }) {
  const guard = new Guard(authConfig(options, options.rbac), options);
  const handler = expressHandler(guard, {
    extra(req, ctx) {
      req.user = ctx.user;
      req.authContext = ctx;
    },
  });
  return Object.assign(handler, { guard, on: guard.on.bind(guard) as Guard['on'] });
}


/** The seed's rate-limit storage: `memory` (the gate's in-process counters) or `redis`
 * (`createRedisStore`: exact across processes). */
export interface RateLimitStorage {
  type: 'memory' | 'redis';
  store?: RedisStore;
}

export function createRateLimitStorage(options: { type: 'memory' | 'redis'; redis?: { url?: string; prefix?: string; client?: RedisClientLike } }): RateLimitStorage {
  if (options.type === 'memory') return { type: 'memory' };
  if (options.type !== 'redis') throw new ConfigError('createRateLimitStorage: type is memory or redis');
  return { type: 'redis', store: createRedisStore({ url: options.redis?.url, client: options.redis?.client, prefix: options.redis?.prefix }) };
}

export interface RateLimitByUserOptions {
  maxRequests: number;
  windowMs: number;
  roleLimits?: Record<string, number>;
  skipRoles?: string[];
  message?: string;
}

export interface RateLimitResult extends AuthMiddlewareResult {
  /** `RateLimit-Policy`, `RateLimit` (and `Retry-After` on a 429): set them on the response. */
  headers: Record<string, string>;
}

/**
 * Per-user rate limits on an authenticated context: `(context) => { proceed, error?, headers }`.
 * One gate policy (`key: "sub"`, `roleLimits`, `skipRoles`) decided by the core, whose
 * counters live in the gate (memory) or in Redis (`createRateLimitStorage({ type: 'redis' })`).
 */
export function createRateLimitByUserMiddleware(options: RateLimitByUserOptions, storage: RateLimitStorage = { type: 'memory' }): (context: AuthContext | undefined) => Promise<RateLimitResult> {
  const ms = options.windowMs;
  if (!Number.isInteger(ms) || ms < 1) throw new ConfigError('windowMs: expected a positive integer');
  const policy: Record<string, unknown> = { name: 'user', key: 'sub', limit: options.maxRequests, window: ms % 1000 === 0 ? ms / 1000 : `${ms}ms`, store: storage.type };
  // A shared store gets time to answer (a first connection); when it cannot, the gate
  // enforces the limit in-process (`onStoreError: local`).
  if (storage.type === 'redis') Object.assign(policy, { timeoutMs: 1000, onStoreError: 'local' });
  if (options.roleLimits) policy.roleLimits = options.roleLimits;
  if (options.skipRoles) policy.skipRoles = options.skipRoles;
  const pendingUsers = new Map<string, GateIdentity>();
  const store: GateStore = storage.store ?? {};
  const gate = Gate.create(
    { providers: [{ type: 'custom', name: 'context' }], rateLimits: [policy as unknown as ConfigRateLimit], routes: [{ name: 'user', path: '/**', rateLimits: ['user'] }] },
    {
      store,
      customVerify: (_p, token) => {
        const u = pendingUsers.get(token);
        return u ? { sub: u.sub, roles: u.roles, permissions: u.permissions, exp: Math.floor(Date.now() / 1000) + 60 } : null;
      },
    },
  );
  return async (context) => {
    const user = context?.user;
    if (!user) return { proceed: false, error: { statusCode: 401, code: 'AUTH-005', message: 'authentication required' }, headers: {} };
    const ticket = `rl${crypto.randomUUID().replace(/-/g, '')}`;
    pendingUsers.set(ticket, user);
    let d;
    try {
      d = await gate.decide({ method: 'GET', path: '/', headers: { authorization: `Bearer ${ticket}` } });
    } finally {
      pendingUsers.delete(ticket);
    }
    const headers = { ...(d.preflight ? {} : d.responseHeaders) };
    if (d.allow) return { proceed: true, context, headers };
    if (d.preflight) return { proceed: false, error: { statusCode: 500, code: 'AUTH-015', message: 'unexpected preflight' }, headers };
    if (d.retryAfter !== null && d.retryAfter !== undefined) headers['retry-after'] ??= String(d.retryAfter);
    const message = d.code === 'AUTH-016' && options.message ? options.message : d.detail;
    return { proceed: false, error: { statusCode: d.status, code: d.code, message }, headers };
  };
}
