/**
 * The framework-neutral part of the middleware (`edgegate/express`, `/hono`, `/fastify`):
 * a `Gate`, events, and the translation of a decision into a response. HTTP glue only: the
 * decision is the core's (`Gate.decide`).
 */
import type { GateConfig } from './config.generated.js';
import { isAuthError } from './errors.js';
import { runWithAuthContext, type AuthContext } from './context.js';
import { Gate, type GateDecision, type GateDeny, type GateIdentity, type GateOptions, type GateRequest } from './gate.js';

/** Events a guard emits. Payloads never hold a token, key or secret. */
export interface GuardEvents {
  /** An identity was allowed (also emitted as `auth:success`). */
  'auth:login': (identity: GateIdentity, info: RequestInfo) => void;
  'auth:success': (identity: GateIdentity, info: RequestInfo) => void;
  /** A request was denied (also emitted as `auth:failure`). */
  'auth:unauthorized': (denial: DenialInfo, info: RequestInfo) => void;
  'auth:failure': (denial: DenialInfo, info: RequestInfo) => void;
  /** The gate could not decide (a store or configuration error); the request was denied. */
  'auth:error': (error: { code: string; message: string }, info: RequestInfo) => void;
  /** A rate limit denied the request (AUTH-016). */
  'ratelimit:exceeded': (denial: DenialInfo, info: RequestInfo) => void;
}
export type GuardEvent = keyof GuardEvents;

/** What events say about a request (no headers: they carry credentials). */
export interface RequestInfo {
  method: string;
  /** The path without its query (the query may carry `access_token`). */
  path: string;
  clientIp?: string;
  route: string | null;
}

/** A denial as events report it. */
export interface DenialInfo {
  status: number;
  code: string;
  detail: string;
  route: string | null;
}

/** Whose address is the client's. */
export type TrustProxy = boolean | number | ((address: string, hop: number) => boolean);

/** Options of the middleware. */
export interface GuardOptions extends GateOptions {
  /** An existing gate instead of `config` (then `config` may be `null`). */
  gate?: Gate;
  /**
   * Whether to read the client address from `X-Forwarded-For` (default `false`: the
   * socket's address). `true`: the left-most entry; a number N: trust N proxies (the Nth
   * entry from the right); a function: trust the hop when it returns true.
   */
  trustProxy?: TrustProxy;
}

/** A decision with what the rate-limit work adds (present once it has landed). */
export type GuardDecision = GateDecision & { responseHeaders?: Record<string, string> };

type Listener = (...a: never[]) => void;

/** A gate with events, shared by the framework adapters. */
export class Guard {
  readonly gate: Gate;
  readonly trustProxy: TrustProxy;
  readonly #listeners = new Map<GuardEvent, Listener[]>();

  constructor(config: GateConfig | string | null | undefined, options: GuardOptions = {}) {
    this.gate = options.gate ?? Gate.create(config as GateConfig | string, options);
    this.trustProxy = options.trustProxy ?? false;
    for (const w of this.gate.warnings) console.warn(`edgegate: WARNING: ${w}`);
  }

  on<E extends GuardEvent>(event: E, listener: GuardEvents[E]): this {
    const l = this.#listeners.get(event) ?? [];
    l.push(listener as Listener);
    this.#listeners.set(event, l);
    return this;
  }

  off<E extends GuardEvent>(event: E, listener: GuardEvents[E]): this {
    const l = this.#listeners.get(event);
    if (l) this.#listeners.set(event, l.filter((x) => x !== (listener as Listener)));
    return this;
  }

  /** Calls listeners; one that throws is reported on the console and cannot change the
   * decision (the decision is made, and frozen, before any listener runs). */
  #emit(event: GuardEvent, ...args: unknown[]): void {
    for (const l of this.#listeners.get(event) ?? []) {
      try {
        const r = (l as (...a: unknown[]) => unknown)(...args);
        if (r && typeof (r as Promise<unknown>).then === 'function') (r as Promise<unknown>).then(undefined, (e) => console.error(`edgegate: ${event} listener failed:`, e));
      } catch (e) {
        console.error(`edgegate: ${event} listener failed:`, e);
      }
    }
  }

  /** Decides, emits, and never throws: a gate error becomes a 500 AUTH-015 denial. */
  async decide(request: GateRequest & { clientIp?: string }): Promise<GuardDecision> {
    const q = request.path.indexOf('?');
    const base = { method: request.method, path: q < 0 ? request.path : request.path.slice(0, q), clientIp: request.clientIp };
    let d: GuardDecision;
    try {
      d = (await this.gate.decide(request)) as GuardDecision;
    } catch (e) {
      const code = isAuthError(e) ? e.code : 'AUTH-015';
      const message = isAuthError(e) ? e.message : 'gate error';
      d = deny(500, code, 'the gate could not decide');
      this.#emit('auth:error', Object.freeze({ code, message }), Object.freeze({ ...base, route: null }));
      return d;
    }
    deepFreeze(d);
    const info = Object.freeze({ ...base, route: d.route });
    if (d.allow) {
      if (d.identity) {
        this.#emit('auth:login', d.identity, info);
        this.#emit('auth:success', d.identity, info);
      }
    } else if (!d.preflight) {
      const denial = Object.freeze({ status: d.status, code: d.code, detail: d.detail, route: d.route });
      if (d.code === 'AUTH-016') this.#emit('ratelimit:exceeded', denial, info);
      this.#emit('auth:unauthorized', denial, info);
      this.#emit('auth:failure', denial, info);
    }
    return d;
  }

  /** The client address: the socket's, or from `X-Forwarded-For` as `trustProxy` says. */
  clientIp(socketAddress: string | undefined, forwardedFor: string | string[] | undefined): string | undefined {
    const t = this.trustProxy;
    if (!t || forwardedFor === undefined) return socketAddress;
    const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor)
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const chain = socketAddress ? [...hops, socketAddress] : hops;
    if (t === true) return chain[0] ?? socketAddress;
    if (typeof t === 'number') return chain[Math.max(0, chain.length - 1 - t)] ?? socketAddress;
    // A function: walk from the right while the hop is trusted.
    let i = chain.length - 1;
    while (i > 0 && t(chain[i], chain.length - 1 - i)) i--;
    return chain[i] ?? socketAddress;
  }
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o as object)) deepFreeze(v);
  }
  return o;
}

function deny(status: number, code: string, detail: string): GateDeny {
  return {
    allow: false,
    status,
    code,
    detail,
    wwwAuthenticate: null,
    body: JSON.stringify({ type: 'about:blank', title: 'Internal Server Error', status, code, detail }),
    route: null,
    responseHeaders: {},
    retryAfter: null,
  };
}

/** The headers of a response for `d` (denial or preflight), with the rate-limit headers. */
export function responseHeaders(d: GuardDecision): Record<string, string> {
  const h: Record<string, string> = {};
  if (d.preflight) Object.assign(h, d.headers);
  else if (!d.allow) {
    h['content-type'] = 'application/problem+json';
    h['cache-control'] = 'no-store';
    if (d.wwwAuthenticate) h['www-authenticate'] = d.wwwAuthenticate;
    const extra = (d as { headers?: Record<string, string> }).headers;
    if (extra) Object.assign(h, extra);
  }
  if (d.responseHeaders) Object.assign(h, d.responseHeaders);
  return h;
}

/** The identity as `req.auth` / `c.get('auth')` hold it (a fresh, mutable copy). */
export function identityOf(d: GuardDecision): GateIdentity | null {
  if (!d.allow || !d.identity) return null;
  const i = d.identity;
  return { sub: i.sub, provider: i.provider, roles: [...i.roles], permissions: [...i.permissions], org: i.org, claims: structuredClone(i.claims) };
}

/** Header pairs from Node's `rawHeaders` (keeps duplicates: Node drops a second
 * `Authorization` from `req.headers`, and the core refuses two). */
export function pairsFromRaw(raw: readonly string[] | undefined): Array<[string, string]> | undefined {
  if (!raw) return undefined;
  const out: Array<[string, string]> = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i], raw[i + 1]]);
  return out;
}

export interface NodeReqLike {
  method?: string;
  url?: string;
  originalUrl?: string;
  headers: Record<string, string | string[] | undefined>;
  rawHeaders?: string[];
  socket?: { remoteAddress?: string };
  emit(event: string | symbol, ...a: unknown[]): boolean;
  [k: string]: unknown;
}
export interface NodeResLike {
  statusCode: number;
  setHeader(name: string, value: string): unknown;
  end(body?: string): unknown;
  emit(event: string | symbol, ...a: unknown[]): boolean;
}

/** Runs every event of `emitter` (the request and response streams) in `ctx`: a body parser
 * that reads the stream after the gate continues in the request's context
 * (expressjs/express#4396: stream events otherwise run in the context of the socket). */
function emitInContext(emitter: { emit(event: string | symbol, ...a: unknown[]): boolean }, ctx: AuthContext): void {
  const emit = emitter.emit;
  emitter.emit = function (this: unknown, ...a: [string | symbol, ...unknown[]]) {
    return runWithAuthContext(ctx, () => emit.apply(this, a));
  };
}

/** @internal Express/Connect glue shared by `edgegate/express` and `createExpressAuthMiddleware`.
 * `extra(req, ctx)` may add fields to the request on allow. */
export function expressHandler(
  guard: Guard,
  options: {
    onDenied?(d: GuardDecision, req: NodeReqLike, res: NodeResLike, next: (e?: unknown) => void): unknown;
    extra?(req: NodeReqLike, ctx: AuthContext): void;
  } = {},
) {
  return async (req: NodeReqLike, res: NodeResLike, next: (e?: unknown) => void): Promise<void> => {
    const clientIp = guard.clientIp(req.socket?.remoteAddress, req.headers['x-forwarded-for']);
    const d = await guard.decide({
      method: String(req.method ?? 'GET'),
      path: String(req.originalUrl ?? req.url ?? '/'),
      headers: pairsFromRaw(req.rawHeaders) ?? req.headers,
      clientIp,
    });
    const h = responseHeaders(d);
    if (d.allow) {
      for (const [k, v] of Object.entries(h)) res.setHeader(k, v);
      // Identity headers the client sent are removed; the gate's are set (as on the Worker).
      for (const n of d.stripHeaders) delete req.headers[n.toLowerCase()];
      for (const [k, v] of Object.entries(d.headers)) req.headers[k.toLowerCase()] = v;
      const auth = identityOf(d);
      req.auth = auth;
      const ctx = contextOf(d, auth);
      options.extra?.(req, ctx);
      emitInContext(req, ctx);
      emitInContext(res, ctx);
      runWithAuthContext(ctx, () => next());
      return;
    }
    if (options.onDenied && !d.preflight) {
      await options.onDenied(d, req, res, next);
      return;
    }
    res.statusCode = d.status;
    for (const [k, v] of Object.entries(h)) res.setHeader(k, v);
    res.end(d.preflight ? undefined : d.body);
  };
}

/** The request context for an allow: the identity, and the session when the credential
 * was one (provider `session`). */
export function contextOf(d: GuardDecision, auth: GateIdentity | null): AuthContext {
  const session = auth?.provider === 'session' && typeof auth.claims.exp === 'number' ? { userId: auth.sub, expiresAt: auth.claims.exp } : null;
  return { user: auth, session, provider: auth?.provider, authenticatedAt: new Date(), route: d.route };
}
