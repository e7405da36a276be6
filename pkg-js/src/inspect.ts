/**
 * Unverified decoding and inspection of tokens (core `token::inspect`). Nothing returned
 * here is trusted: use it for display and routing, never for access decisions.
 */
import { NotInitialisedError, fromCore } from './errors.js';

/** JSON object. */
export type JsonObject = { [k: string]: unknown };

/** JWT claims (registered ones typed; any other member allowed). */
export interface JWTPayload {
  iss?: string;
  sub?: string;
  aud?: string | string[];
  jti?: string;
  nbf?: number;
  exp?: number;
  iat?: number;
  [propName: string]: unknown;
}

/** A JWS protected header. */
export interface ProtectedHeaderParameters {
  alg?: string;
  kid?: string;
  typ?: string;
  cty?: string;
  crit?: string[];
  b64?: boolean;
  jku?: string;
  jwk?: JsonObject;
  x5u?: string;
  x5c?: string[];
  x5t?: string;
  [propName: string]: unknown;
}

/** What `inspectToken` reports. None of it is verified. */
export interface TokenInspection {
  /** Always `false`. */
  verified: false;
  header: ProtectedHeaderParameters;
  claims: JWTPayload;
  /** `exp` (seconds since the epoch), or `null`. */
  expiresAt: number | null;
  /** `exp <= now`. */
  expired: boolean;
  /** `exp - now` in seconds, or `null`. */
  expiresIn: number | null;
  /** `nbf > now`. */
  notYetValid: boolean;
  /** Stable lowercase warnings (`alg: none`, missing `exp`, weak key, ...). */
  warnings: string[];
}

/** Options of `inspectToken`. */
export interface InspectOptions {
  /** The instant to compare `exp`/`nbf` with (default: now). */
  currentDate?: Date;
}

/** The part of the wasm binding inspection needs. */
export interface InspectBinding {
  decodeToken(token: string): string;
  decodeHeader(token: string): string;
  inspectToken(token: string, now: number): string;
}

let B: InspectBinding | undefined;

/** @internal Wires the wasm binding (done by each runtime entry point). */
export function setupInspect(binding: InspectBinding): void {
  B = binding;
}

function binding(): InspectBinding {
  if (!B) throw new NotInitialisedError();
  return B;
}

/** @internal */
export function asString(token: unknown): string {
  if (typeof token === 'string') return token;
  if (token instanceof Uint8Array) return new TextDecoder().decode(token);
  throw fromCore({ code: 'AUTH-006', message: 'token must be a string' });
}

function call<T>(f: () => string): T {
  try {
    return JSON.parse(f()) as T;
  } catch (e) {
    throw fromCore(e, 'AUTH-006');
  }
}

/** The claims of a JWT, unverified (jose's `decodeJwt`). */
export function decodeJwt<T extends JWTPayload = JWTPayload>(jwt: string): T {
  const t = asString(jwt);
  return call<{ claims: T }>(() => binding().decodeToken(t)).claims;
}

/** The protected header of a compact JWS/JWT, unverified (jose's `decodeProtectedHeader`). */
export function decodeProtectedHeader(token: string): ProtectedHeaderParameters {
  const t = asString(token);
  return call<ProtectedHeaderParameters>(() => binding().decodeHeader(t));
}

/** Header, claims, expiry and warnings of a token, for display. Marked `verified: false`. */
export function inspectToken(jwt: string, options: InspectOptions = {}): TokenInspection {
  const t = asString(jwt);
  const now = Math.floor((options.currentDate ? options.currentDate.getTime() : Date.now()) / 1000);
  return call<TokenInspection>(() => binding().inspectToken(t, now));
}
