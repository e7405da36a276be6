/**
 * Request context: the identity the gate allowed, reachable from anywhere in the request's
 * async call chain (`AsyncLocalStorage` where the runtime has it: Node, Bun, Deno, Workers
 * with `nodejs_als`/`nodejs_compat`). The middleware (`edgegate/express`, `/hono`,
 * `/fastify`) sets it; `runWithAuthContext` sets it by hand.
 *
 * Nothing here decides: role and permission checks use the identity the core produced
 * (roles already expanded by inheritance, permissions already including the roles' grants),
 * and permission wildcards are matched by the core's rule (`permissionGranted`).
 */
import { gateBinding } from './api.js';
import { authError } from './errors.js';
import type { GateIdentity } from './gate.js';

/** A session, when the credential was one (see `SessionManager`). */
export interface AuthSession {
  id?: string;
  userId: string;
  expiresAt: number;
  [k: string]: unknown;
}

/** What the context holds for one request. */
export interface AuthContext {
  /** The identity (null: a public route or an anonymous request on an optional route). */
  user: GateIdentity | null;
  session?: AuthSession | null;
  /** The provider name, when authenticated. */
  provider?: string;
  authenticatedAt: Date;
  /** The route rule that matched. */
  route?: string | null;
}

interface Als<T> {
  run<R>(store: T, fn: () => R): R;
  getStore(): T | undefined;
}
interface AlsClass {
  new <T>(): Als<T>;
  bind?<F extends (...a: never[]) => unknown>(fn: F): F;
}

function findAls(): AlsClass | undefined {
  const g = globalThis as { AsyncLocalStorage?: AlsClass; process?: { getBuiltinModule?: (id: string) => unknown } };
  if (typeof g.AsyncLocalStorage === 'function') return g.AsyncLocalStorage;
  try {
    const m = g.process?.getBuiltinModule?.('node:async_hooks') as { AsyncLocalStorage?: AlsClass } | undefined;
    if (m?.AsyncLocalStorage) return m.AsyncLocalStorage;
  } catch {
    // not Node
  }
  return undefined;
}

const KEY = Symbol.for('edgegate.authContext');
type Holder = { als?: Als<AuthContext>; cls?: AlsClass };
/** One store per process even if two copies of the package are loaded (ESM + CJS). */
const holder: Holder = ((globalThis as Record<symbol, unknown>)[KEY] ??= (() => {
  const cls = findAls();
  return { cls, als: cls ? new cls<AuthContext>() : undefined } satisfies Holder;
})()) as Holder;

/** Whether this runtime propagates the context through async calls. */
export const hasAsyncContext: boolean = holder.als !== undefined;

/**
 * Runs `fn` with `context` as the current auth context (and everything `fn` starts).
 * Without `AsyncLocalStorage` it still runs `fn`; `getAuthContext()` then returns undefined:
 * use the framework's own slot (`req.auth`, `c.get('auth')`) or `globalAuthContext`.
 */
export function runWithAuthContext<R>(context: AuthContext, fn: () => R): R {
  return holder.als ? holder.als.run(context, fn) : fn();
}

/** @internal `fn` bound to the current context (listeners registered on a request stream
 * run in the context of the code that emits, not the code that registered them). */
export function bindToAuthContext<F extends (...a: never[]) => unknown>(fn: F): F {
  return holder.cls?.bind ? holder.cls.bind(fn) : fn;
}

/** The current request's auth context, if any. */
export function getAuthContext(): AuthContext | undefined {
  return holder.als?.getStore();
}

/** The current identity (`req.auth`), or undefined. */
export function getAuth(): GateIdentity | undefined {
  return getAuthContext()?.user ?? undefined;
}

/** The current user (same as `getAuth()`). */
export function getCurrentUser(): GateIdentity | undefined {
  return getAuth();
}

/** The current session, when the credential was a session. */
export function getCurrentSession(): AuthSession | undefined {
  return getAuthContext()?.session ?? undefined;
}

/** Whether the current request carries an identity. */
export function isAuthenticated(): boolean {
  return !!getAuthContext()?.user;
}

/** The current context with an identity; throws `MissingTokenError` (AUTH-005, 401) without one. */
export function requireAuth(): AuthContext & { user: GateIdentity } {
  const c = getAuthContext();
  if (!c?.user) throw authError('AUTH-005', 'authentication required');
  return c as AuthContext & { user: GateIdentity };
}

/** Whether the identity has `role` (inherited roles count: the core expanded them). */
export function hasRole(role: string, user: GateIdentity | null | undefined = getAuth()): boolean {
  return !!user && user.roles.includes(role);
}

/** Whether the identity has one of `roles`. */
export function hasAnyRole(roles: readonly string[], user: GateIdentity | null | undefined = getAuth()): boolean {
  return !!user && roles.some((r) => user.roles.includes(r));
}

/** Whether the identity is granted `permission` (wildcards by the core's rule). */
export function hasPermission(permission: string, user: GateIdentity | null | undefined = getAuth()): boolean {
  if (!user) return false;
  const b = gateBinding() as { permissionGranted(granted: string, needed: string): boolean };
  return b.permissionGranted(JSON.stringify(user.permissions), permission);
}

/** Whether the identity is granted every one of `permissions`. */
export function hasAllPermissions(permissions: readonly string[], user: GateIdentity | null | undefined = getAuth()): boolean {
  return !!user && permissions.every((p) => hasPermission(p, user));
}

/** Throws AUTH-005 without an identity, AUTH-012 (403) without `role`. */
export function requireRole(role: string): GateIdentity {
  const { user } = requireAuth();
  if (!hasRole(role, user)) throw authError('AUTH-012', `missing role ${JSON.stringify(role)}`);
  return user;
}

/** Throws AUTH-005 without an identity, AUTH-011 (403) without `permission`. */
export function requirePermission(permission: string): GateIdentity {
  const { user } = requireAuth();
  if (!hasPermission(permission, user)) throw authError('AUTH-011', `missing permission ${JSON.stringify(permission)}`);
  return user;
}

/**
 * A single-slot holder for runtimes without `AsyncLocalStorage`. It is one value per
 * process: only safe where one request runs at a time (a script, a test, a single-request
 * isolate). Prefer the framework's slot (`req.auth`, `c.get('auth')`).
 */
export const globalAuthContext = {
  current: undefined as AuthContext | undefined,
  set(context: AuthContext): void {
    this.current = context;
  },
  get(): AuthContext | undefined {
    return this.current;
  },
  getUser(): GateIdentity | undefined {
    return this.current?.user ?? undefined;
  },
  clear(): void {
    this.current = undefined;
  },
};
