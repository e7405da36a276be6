/**
 * Errors: `Error` subclasses with a stable `code` (`AUTH-001` .. `AUTH-020`, shared with the
 * Rust core and HTTP bodies) and an HTTP `status`. Messages never contain the token, a key
 * or a signature.
 */

import { ERROR_CODES } from './abi.generated.js';

/** Every stable code with its HTTP status and title (generated from the Rust core, src/abi.rs). */
export { ERROR_CODES };

/** A stable error code. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** Why a claim check failed (as jose's `JWTClaimValidationFailed.reason`). */
export type ClaimReason = 'check_failed' | 'missing' | 'invalid';

/** Extra fields an error may carry. */
export interface AuthErrorDetails {
  /** The claim a claim check failed on (`exp`, `iss`, `aud`, ...). */
  claim?: string;
  /** Why the claim check failed. */
  reason?: ClaimReason | string;
  /** The underlying error (never a token or key). */
  cause?: unknown;
  /** The JWT claims set, on claim check errors (jose's `payload`). */
  payload?: Record<string, unknown>;
  /** jose's error code, when the default derived from `code` and the message is not right. */
  joseCode?: JoseErrorCode;
}

/** jose's error codes (`errors.X.code`); `AuthError.joseCode` holds the one an error maps to. */
export type JoseErrorCode =
  | 'ERR_JOSE_GENERIC'
  | 'ERR_JWT_CLAIM_VALIDATION_FAILED'
  | 'ERR_JWT_EXPIRED'
  | 'ERR_JOSE_ALG_NOT_ALLOWED'
  | 'ERR_JOSE_NOT_SUPPORTED'
  | 'ERR_JWE_DECRYPTION_FAILED'
  | 'ERR_JWE_INVALID'
  | 'ERR_JWS_INVALID'
  | 'ERR_JWT_INVALID'
  | 'ERR_JWK_INVALID'
  | 'ERR_JWKS_INVALID'
  | 'ERR_JWKS_NO_MATCHING_KEY'
  | 'ERR_JWKS_MULTIPLE_MATCHING_KEYS'
  | 'ERR_JWKS_TIMEOUT'
  | 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED';

/**
 * The jose error an edgegate error corresponds to (what `import { errors } from 'edgegate'`
 * classes match with `instanceof`). Derived from the stable code, the claim and the core's
 * fixed messages (src/jose/verify.rs `Display`).
 */
export function joseCodeOf(code: ErrorCode, message: string, claim?: string): JoseErrorCode {
  switch (code) {
    case 'AUTH-002':
      return 'ERR_JWT_EXPIRED';
    case 'AUTH-004':
      return 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED';
    case 'AUTH-006':
      return /claims set/i.test(message) ? 'ERR_JWT_INVALID' : 'ERR_JWS_INVALID';
    case 'AUTH-001':
      if (claim !== undefined) return 'ERR_JWT_CLAIM_VALIDATION_FAILED';
      if (/^no key matches/.test(message)) return 'ERR_JWKS_NO_MATCHING_KEY';
      if (/^multiple keys match/.test(message)) return 'ERR_JWKS_MULTIPLE_MATCHING_KEYS';
      if (/^algorithm not allowed/.test(message)) return 'ERR_JOSE_ALG_NOT_ALLOWED';
      if (/^forbidden or unsupported header/.test(message)) return 'ERR_JOSE_NOT_SUPPORTED';
      return 'ERR_JWT_INVALID';
    case 'AUTH-007':
      return /timed out/.test(message) ? 'ERR_JWKS_TIMEOUT' : /JSON Web Key Set|jwks.*(invalid|parse|json)/i.test(message) ? 'ERR_JWKS_INVALID' : 'ERR_JOSE_GENERIC';
    case 'AUTH-015':
      if (/JSON Web Key Set|jwks/i.test(message)) return 'ERR_JWKS_INVALID';
      if (/unsupported/i.test(message)) return 'ERR_JOSE_NOT_SUPPORTED';
      if (/\bkey\b|jwk|pem/i.test(message)) return 'ERR_JWK_INVALID';
      return 'ERR_JOSE_GENERIC';
    default:
      return 'ERR_JOSE_GENERIC';
  }
}

/** Marks edgegate errors across package instances (ESM and CJS builds in one process). */
const BRAND: unique symbol = Symbol.for('edgegate.AuthError') as never;

/** Base class of every edgegate error. */
export class AuthError extends Error {
  /**
   * `instanceof` works across the ESM and CJS instances of the package: an error is an
   * `AuthError` if it carries the brand, and a subclass instance if it also has its name.
   */
  static [Symbol.hasInstance](x: unknown): boolean {
    if (Function.prototype[Symbol.hasInstance].call(this, x)) return true;
    if (typeof x !== 'object' || x === null || (x as { [BRAND]?: unknown })[BRAND] !== true) return false;
    return this === AuthError || (x as Error).name === this.name;
  }

  /** The stable code, `AUTH-0xx`. */
  readonly code: ErrorCode;
  /** The HTTP status a response for this error carries. */
  readonly status: number;
  /** The claim a claim check failed on, if any. */
  readonly claim?: string;
  /** Why the claim check failed, if it was one. */
  readonly reason?: string;
  /** The JWT claims set, on claim check errors (`claim` set), as jose's `payload`. */
  payload?: Record<string, unknown>;
  /**
   * jose's code for this error (`ERR_JWT_EXPIRED`, ...): `code` stays the stable `AUTH-0xx`.
   * `errors.JWTExpired` and the other jose-named classes match on it with `instanceof`.
   */
  readonly joseCode: JoseErrorCode;

  constructor(code: ErrorCode, message?: string, details: AuthErrorDetails = {}) {
    super(message || ERROR_CODES[code].title, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    Object.defineProperty(this, BRAND, { value: true });
    this.code = code;
    this.status = ERROR_CODES[code].status;
    if (details.claim !== undefined) this.claim = details.claim;
    if (details.reason !== undefined) this.reason = details.reason;
    if (details.payload !== undefined) this.payload = details.payload;
    this.joseCode = details.joseCode ?? joseCodeOf(code, this.message, details.claim);
  }
}

/** AUTH-001: no key matches, a claim check other than expiry failed, a forbidden header. */
export class InvalidTokenError extends AuthError {
  constructor(message?: string, details?: AuthErrorDetails) {
    super('AUTH-001', message, details);
  }
}
/** AUTH-002: the token expired. */
export class TokenExpiredError extends AuthError {
  constructor(message?: string, details?: AuthErrorDetails) {
    super('AUTH-002', message, { claim: 'exp', reason: 'check_failed', ...details });
  }
}
/** AUTH-003: unknown or revoked API key. */
export class InvalidCredentialsError extends AuthError {
  constructor(message?: string, details?: AuthErrorDetails) {
    super('AUTH-003', message, details);
  }
}
/** AUTH-004: a key matched, the signature did not verify. */
export class InvalidSignatureError extends AuthError {
  constructor(message?: string, details?: AuthErrorDetails) {
    super('AUTH-004', message, details);
  }
}
/** AUTH-005: no token. */
export class MissingTokenError extends AuthError {
  constructor(message?: string, details?: AuthErrorDetails) {
    super('AUTH-005', message, details);
  }
}
/** AUTH-006: not a compact JWS, bad base64url, not a JSON object, over a budget. */
export class TokenDecodeError extends AuthError {
  constructor(message?: string, details?: AuthErrorDetails) {
    super('AUTH-006', message, details);
  }
}
/** AUTH-007: the JWKS could not be fetched (and no usable cached keys). */
export class JwksFetchError extends AuthError {
  constructor(message?: string, details?: AuthErrorDetails) {
    super('AUTH-007', message, details);
  }
}
/** AUTH-015: bad configuration (a bad key, bad options). */
export class ConfigError extends AuthError {
  constructor(message?: string, details?: AuthErrorDetails) {
    super('AUTH-015', message, details);
  }
}

/**
 * AUTH-015: the wasm core was never initialised. Each entry (`edgegate`, `edgegate/browser`)
 * initialises it when it is imported; a bundler that drops an entry's top-level code (a
 * `sideEffects` override, importing internal files) leaves it uninitialised. A setup error,
 * never a token error.
 */
export class NotInitialisedError extends ConfigError {
  constructor(message?: string, details?: AuthErrorDetails) {
    super(
      message ||
        "edgegate: wasm not initialised (import from 'edgegate' or 'edgegate/browser', not internal files, and keep the package's `sideEffects` list: a bundler that drops the entry's top-level `await init()` leaves the core uninitialised)",
      details,
    );
  }
}

const CLASSES: Partial<Record<ErrorCode, new (message?: string, details?: AuthErrorDetails) => AuthError>> = {
  'AUTH-001': InvalidTokenError,
  'AUTH-002': TokenExpiredError,
  'AUTH-003': InvalidCredentialsError,
  'AUTH-004': InvalidSignatureError,
  'AUTH-005': MissingTokenError,
  'AUTH-006': TokenDecodeError,
  'AUTH-007': JwksFetchError,
  'AUTH-015': ConfigError,
};

/** Builds the right error class for a code. */
export function authError(code: ErrorCode, message?: string, details?: AuthErrorDetails): AuthError {
  const C = CLASSES[code];
  return C ? new C(message, details) : new AuthError(code, message, details);
}

/** Turns an error thrown by the wasm core (an `Error` with `code`) into an `AuthError`. */
export function fromCore(e: unknown, fallback: ErrorCode = 'AUTH-001'): AuthError {
  if (e instanceof AuthError) return e;
  const o = e as { code?: unknown; message?: unknown; claim?: unknown; reason?: unknown } | null;
  const code = o && typeof o.code === 'string' && o.code in ERROR_CODES ? (o.code as ErrorCode) : fallback;
  const message = o && typeof o.message === 'string' ? o.message : undefined;
  const details: AuthErrorDetails = {};
  if (o && typeof o.claim === 'string') details.claim = o.claim;
  if (o && typeof o.reason === 'string') details.reason = o.reason;
  return authError(code, message, details);
}

/** Any edgegate error. */
export function isAuthError(e: unknown): e is AuthError {
  return e instanceof AuthError;
}
/** An error about the token itself (AUTH-001, 002, 004, 006): answer 401. */
export function isTokenError(e: unknown): e is AuthError {
  return e instanceof AuthError && (e.code === 'AUTH-001' || e.code === 'AUTH-002' || e.code === 'AUTH-004' || e.code === 'AUTH-006');
}
/** AUTH-002. */
export function isTokenExpiredError(e: unknown): e is TokenExpiredError {
  return e instanceof AuthError && e.code === 'AUTH-002';
}
/** AUTH-004. */
export function isInvalidSignatureError(e: unknown): e is InvalidSignatureError {
  return e instanceof AuthError && e.code === 'AUTH-004';
}
/** AUTH-006. */
export function isTokenDecodeError(e: unknown): e is TokenDecodeError {
  return e instanceof AuthError && e.code === 'AUTH-006';
}
/** AUTH-007. */
export function isJwksError(e: unknown): e is JwksFetchError {
  return e instanceof AuthError && e.code === 'AUTH-007';
}
/** AUTH-015. */
export function isConfigError(e: unknown): e is ConfigError {
  return e instanceof AuthError && e.code === 'AUTH-015';
}
