/**
 * `edgegate/express`: the gate as Express / Connect middleware.
 *
 * ```js
 * import express from 'express';
 * import { gate } from 'edgegate/express';
 * const app = express();
 * app.use(gate(config, { env: process.env }));
 * app.get('/api/me', (req, res) => res.json(req.auth));
 * ```
 *
 * On allow `req.auth` is the identity (`sub`, `provider`, `roles`, `permissions`, `org`,
 * `claims`; `null` on a public route), `getAuth()` returns it anywhere in the request's async
 * chain (also after `express.json()` and other stream-based parsers), and the decision's
 * `responseHeaders` (rate limits) are set on the response. On deny the response is the
 * decision's status, `WWW-Authenticate`, headers and `application/problem+json` body, unless
 * `onDenied` is given. No dependency on express: structural types only.
 */
import type { GateConfig } from './config.generated.js';
import { Guard, expressHandler, type GateIdentity, type GuardDecision, type GuardOptions } from 'edgegate';

/** The parts of a Node/Express request the middleware uses. */
export interface ExpressLikeRequest {
  method?: string;
  url?: string;
  originalUrl?: string;
  headers: Record<string, string | string[] | undefined>;
  rawHeaders?: string[];
  socket?: { remoteAddress?: string; getPeerCertificate?: unknown; authorized?: boolean };
  emit(event: string | symbol, ...args: unknown[]): boolean;
  auth?: GateIdentity | null;
  [k: string]: unknown;
}
/** The parts of a response the middleware uses. */
export interface ExpressLikeResponse {
  statusCode: number;
  setHeader(name: string, value: string): unknown;
  end(body?: string): unknown;
  emit(event: string | symbol, ...args: unknown[]): boolean;
}
export type NextFunction = (err?: unknown) => void;

export interface ExpressGateOptions extends GuardOptions {
  /** Answer a denial yourself (the decision holds status, code, detail, headers, body). */
  onDenied?(decision: GuardDecision, req: ExpressLikeRequest, res: ExpressLikeResponse, next: NextFunction): unknown;
}

export type ExpressGateMiddleware = ((req: ExpressLikeRequest, res: ExpressLikeResponse, next: NextFunction) => Promise<void>) & {
  guard: Guard;
  on: Guard['on'];
  off: Guard['off'];
};

/** The gate as Express/Connect middleware. */
export function gate(config: GateConfig | string, options: ExpressGateOptions = {}): ExpressGateMiddleware {
  const guard = new Guard(config, options);
  const mw = expressHandler(guard, options as never) as unknown as (req: ExpressLikeRequest, res: ExpressLikeResponse, next: NextFunction) => Promise<void>;
  return Object.assign(mw, { guard, on: guard.on.bind(guard) as Guard['on'], off: guard.off.bind(guard) as Guard['off'] });
}

export default gate;
