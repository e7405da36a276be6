/**
 * `edgegate/fastify`: the gate as a Fastify plugin.
 *
 * ```js
 * import Fastify from 'fastify';
 * import edgegate from 'edgegate/fastify';
 * const app = Fastify();
 * await app.register(edgegate, { config, env: process.env });
 * app.get('/api/me', async (request) => request.auth);
 * ```
 *
 * The gate decides in `onRequest` (before the body is parsed: an unauthenticated body is
 * never parsed); `request.auth` is the identity; `getAuth()` works in handlers because the
 * context is entered again in `preHandler`, after body parsing (fastify/fastify#3570). The
 * plugin applies to the scope it is registered in and its parent (like `fastify-plugin`).
 * No dependency on fastify: structural types only.
 */
import type { GateConfig } from './config.generated.js';
import { Guard, contextOf, identityOf, pairsFromRaw, responseHeaders, runWithAuthContext, type AuthContext, type GateIdentity, type GuardDecision, type GuardOptions } from 'edgegate';

interface FastifyLikeRequest {
  method: string;
  url: string;
  ip?: string;
  headers: Record<string, string | string[] | undefined>;
  raw: { rawHeaders?: string[]; socket?: { remoteAddress?: string } };
  auth?: GateIdentity | null;
}
interface FastifyLikeReply {
  code(status: number): FastifyLikeReply;
  header(name: string, value: string): FastifyLikeReply;
  send(body?: unknown): FastifyLikeReply;
}
interface FastifyLikeInstance {
  decorateRequest(name: string, value: unknown): unknown;
  addHook(name: string, fn: (...a: never[]) => unknown): unknown;
}

export interface FastifyGateOptions extends GuardOptions {
  /** The gate config (or pass `guard`). */
  config?: GateConfig | string;
  /** A `Guard` built beforehand (to subscribe to its events: `guard.on('auth:login', ...)`). */
  guard?: Guard;
  onDenied?(decision: GuardDecision, request: FastifyLikeRequest, reply: FastifyLikeReply): unknown;
}

const CTX = Symbol('edgegate.context');

/** The plugin: `fastify.register(edgegate, { config, ... })`. */
export function edgegate(fastify: FastifyLikeInstance, options: FastifyGateOptions, done: (err?: Error) => void): void {
  let guard: Guard;
  try {
    guard = options.guard ?? new Guard(options.config ?? null, options);
  } catch (e) {
    done(e as Error);
    return;
  }
  fastify.decorateRequest('auth', null);
  fastify.addHook('onRequest', (async (request: FastifyLikeRequest & { [CTX]?: AuthContext }, reply: FastifyLikeReply) => {
    const clientIp = options.trustProxy === undefined ? (request.ip ?? request.raw.socket?.remoteAddress) : guard.clientIp(request.raw.socket?.remoteAddress, request.headers['x-forwarded-for']);
    const d = await guard.decide({ method: request.method, path: request.url, headers: pairsFromRaw(request.raw.rawHeaders) ?? request.headers, clientIp });
    const h = responseHeaders(d);
    if (d.allow) {
      for (const [k, v] of Object.entries(h)) reply.header(k, v);
      for (const n of d.stripHeaders) delete request.headers[n.toLowerCase()];
      for (const [k, v] of Object.entries(d.headers)) request.headers[k.toLowerCase()] = v;
      const auth = identityOf(d);
      request.auth = auth;
      request[CTX] = contextOf(d, auth);
      return;
    }
    if (options.onDenied && !d.preflight) {
      await options.onDenied(d, request, reply);
      return reply;
    }
    reply.code(d.status);
    for (const [k, v] of Object.entries(h)) reply.header(k, v);
    reply.send(d.preflight ? '' : d.body);
    return reply;
  }) as never);
  fastify.addHook('preHandler', ((request: { [CTX]?: AuthContext }, _reply: unknown, next: () => void) => {
    const ctx = request[CTX];
    if (ctx) runWithAuthContext(ctx, next);
    else next();
  }) as never);
  done();
}

// Like fastify-plugin: the hooks apply to the scope the plugin is registered in.
(edgegate as unknown as Record<symbol, unknown>)[Symbol.for('skip-override')] = true;
(edgegate as unknown as Record<symbol, unknown>)[Symbol.for('fastify.display-name')] = 'edgegate';

export default edgegate;
