/**
 * `edgegate/hono`: the gate as Hono middleware, on Node (`@hono/node-server`) and on
 * Workers (the `workerd` build of `edgegate`).
 *
 * ```js
 * import { Hono } from 'hono';
 * import { gate } from 'edgegate/hono';
 * const app = new Hono();
 * app.use('*', gate(config, { env: process.env }));
 * app.get('/api/me', (c) => c.json(c.get('auth')));
 * ```
 *
 * On allow `c.get('auth')` is the identity (`null` on a public route) and `getAuth()`
 * returns it where the runtime has `AsyncLocalStorage`; client-sent identity headers are
 * removed from the request and the gate's set (`c.req.raw` is replaced); the decision's
 * `responseHeaders` are set on the response. On deny: the decision's status, headers and problem+json body,
 * or `onDenied`. No dependency on hono: structural types only.
 */
import type { GateConfig } from './config.generated.js';
import { Guard, contextOf, identityOf, responseHeaders, runWithAuthContext, type AuthContext, type GuardDecision, type GuardOptions } from 'edgegate';

/** The parts of a Hono context the middleware uses. */
export interface HonoLikeContext {
  req: { url: string; method: string; raw: Request; header(name: string): string | undefined };
  env?: unknown;
  res: Response;
  set(key: string, value: unknown): void;
  get(key: string): unknown;
}

export interface HonoGateOptions extends GuardOptions {
  /** The client address (default: the Node socket's with `@hono/node-server`;
   * `CF-Connecting-IP` on Cloudflare Workers; else `X-Forwarded-For` as `trustProxy` says). */
  clientIp?(c: HonoLikeContext): string | undefined;
  onDenied?(decision: GuardDecision, c: HonoLikeContext): Response | Promise<Response>;
}

export type HonoGateMiddleware = ((c: HonoLikeContext, next: () => Promise<void>) => Promise<Response | void>) & {
  guard: Guard;
  on: Guard['on'];
  off: Guard['off'];
};

function defaultIp(guard: Guard, c: HonoLikeContext): string | undefined {
  const incoming = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming;
  const xff = c.req.header('x-forwarded-for');
  if (incoming?.socket) return guard.clientIp(incoming.socket.remoteAddress, xff);
  const nav = (globalThis as { navigator?: { userAgent?: string } }).navigator;
  if (nav?.userAgent === 'Cloudflare-Workers') return c.req.header('cf-connecting-ip');
  return guard.clientIp(undefined, xff);
}

/** The gate as Hono middleware. */
export function gate(config: GateConfig | string, options: HonoGateOptions = {}): HonoGateMiddleware {
  const guard = new Guard(config, options);
  const mw = async (c: HonoLikeContext, next: () => Promise<void>): Promise<Response | void> => {
    const url = new URL(c.req.url);
    const d = await guard.decide({
      method: c.req.method,
      path: url.pathname + url.search,
      headers: c.req.raw.headers,
      clientIp: options.clientIp ? options.clientIp(c) : defaultIp(guard, c),
    });
    const h = responseHeaders(d);
    if (!d.allow) {
      if (options.onDenied && !d.preflight) return options.onDenied(d, c);
      return new Response(d.preflight ? null : d.body, { status: d.status, headers: h });
    }
    // Identity headers the client sent are removed and the gate's set, as the Worker and the
    // Express middleware do, so a handler reading `c.req.header('x-user-id')` (or proxying
    // `c.req.raw`) sees only what the gate vouches for. Incoming headers are immutable on
    // some runtimes: the request is rebuilt with the new headers (same body and signal).
    if (d.stripHeaders.length || Object.keys(d.headers).length) {
      const headers = new Headers(c.req.raw.headers);
      for (const n of d.stripHeaders) headers.delete(n);
      for (const [k, v] of Object.entries(d.headers)) headers.set(k, v);
      c.req.raw = new Request(c.req.raw, { headers });
    }
    const auth = identityOf(d);
    c.set('auth', auth);
    const ctx = contextOf(d, auth);
    await runWithAuthContext(ctx, () => next());
    if (Object.keys(h).length) {
      try {
        for (const [k, v] of Object.entries(h)) c.res.headers.set(k, v);
      } catch {
        // Immutable headers (a fetched response): copy it.
        const res = new Response(c.res.body, c.res);
        for (const [k, v] of Object.entries(h)) res.headers.set(k, v);
        c.res = res;
      }
    }
  };
  return Object.assign(mw, { guard, on: guard.on.bind(guard) as Guard['on'], off: guard.off.bind(guard) as Guard['off'] });
}

export default gate;
