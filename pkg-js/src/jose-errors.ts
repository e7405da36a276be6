/**
 * jose's error classes, for `import { errors } from 'edgegate'`: a program written for jose
 * (`catch (e) { if (e instanceof errors.JWTExpired) ... }`) works unchanged.
 *
 * Every edgegate error (`AuthError`) is an `errors.JOSEError`; the other classes match an
 * edgegate error by its `joseCode` (`ERR_JWT_EXPIRED`, ...). `e.code` stays edgegate's stable
 * `AUTH-0xx` (it is what HTTP bodies carry); jose's code is `e.joseCode`, and each class's
 * static `code` is jose's (`errors.JWTExpired.code === 'ERR_JWT_EXPIRED'`). Claim errors carry
 * `claim`, `reason` and `payload` as jose's do. The classes can be constructed as jose's can.
 */
import { AuthError, type ErrorCode, type JoseErrorCode } from './errors.js';

type Payload = Record<string, unknown>;

/** jose's base class: every edgegate error is an instance. */
export class JOSEError extends AuthError {
  /** jose's code for this class. */
  static code: JoseErrorCode = 'ERR_JOSE_GENERIC';
  /** The edgegate code an instance built with `new` carries. */
  static authCode: ErrorCode = 'AUTH-001';

  static [Symbol.hasInstance](x: unknown): boolean {
    if (Function.prototype[Symbol.hasInstance].call(this, x)) return true;
    if (!(x instanceof AuthError)) return false;
    return this === JOSEError || (x as AuthError).joseCode === (this as typeof JOSEError).code;
  }

  constructor(message?: string, options?: { cause?: unknown }) {
    const C = new.target as typeof JOSEError;
    super(C.authCode, message, { cause: options?.cause, joseCode: C.code });
  }
}

/** A claim check failed (`iss`, `aud`, `nbf`, a required claim, ...): AUTH-001. */
export class JWTClaimValidationFailed extends JOSEError {
  static override code: JoseErrorCode = 'ERR_JWT_CLAIM_VALIDATION_FAILED';
  constructor(message: string, payload: Payload, claim = 'unspecified', reason = 'unspecified') {
    super(message);
    Object.assign(this, { claim, reason, payload });
  }
}

/** The token expired (`exp`): AUTH-002. */
export class JWTExpired extends JOSEError {
  static override code: JoseErrorCode = 'ERR_JWT_EXPIRED';
  static override authCode: ErrorCode = 'AUTH-002';
  constructor(message: string, payload: Payload, claim = 'unspecified', reason = 'unspecified') {
    super(message);
    Object.assign(this, { claim, reason, payload });
  }
}

/** The token's `alg` is not allowed: AUTH-001. */
export class JOSEAlgNotAllowed extends JOSEError {
  static override code: JoseErrorCode = 'ERR_JOSE_ALG_NOT_ALLOWED';
}
/** An unsupported header (`crit`, `b64`) or key type: AUTH-001. */
export class JOSENotSupported extends JOSEError {
  static override code: JoseErrorCode = 'ERR_JOSE_NOT_SUPPORTED';
}
/** JWE is not supported by edgegate (the class exists so jose programs compile). */
export class JWEDecryptionFailed extends JOSEError {
  static override code: JoseErrorCode = 'ERR_JWE_DECRYPTION_FAILED';
}
/** JWE is not supported by edgegate (the class exists so jose programs compile). */
export class JWEInvalid extends JOSEError {
  static override code: JoseErrorCode = 'ERR_JWE_INVALID';
}
/** Not a compact JWS (bad segments, base64url, header JSON): AUTH-006. */
export class JWSInvalid extends JOSEError {
  static override code: JoseErrorCode = 'ERR_JWS_INVALID';
  static override authCode: ErrorCode = 'AUTH-006';
}
/** Not a JWT (the claims set is not a JSON object): AUTH-006 / AUTH-001. */
export class JWTInvalid extends JOSEError {
  static override code: JoseErrorCode = 'ERR_JWT_INVALID';
  static override authCode: ErrorCode = 'AUTH-006';
}
/** A bad key: AUTH-015. */
export class JWKInvalid extends JOSEError {
  static override code: JoseErrorCode = 'ERR_JWK_INVALID';
  static override authCode: ErrorCode = 'AUTH-015';
}
/** A bad key set: AUTH-015 (local) / AUTH-007 (remote). */
export class JWKSInvalid extends JOSEError {
  static override code: JoseErrorCode = 'ERR_JWKS_INVALID';
  static override authCode: ErrorCode = 'AUTH-015';
}
/** No key in the set matches the token's `kid`/`alg`: AUTH-001. */
export class JWKSNoMatchingKey extends JOSEError {
  static override code: JoseErrorCode = 'ERR_JWKS_NO_MATCHING_KEY';
  constructor(message = 'no applicable key found in the JSON Web Key Set', options?: { cause?: unknown }) {
    super(message, options);
  }
}
/** Several keys match and none verified: AUTH-001. */
export class JWKSMultipleMatchingKeys extends JOSEError {
  static override code: JoseErrorCode = 'ERR_JWKS_MULTIPLE_MATCHING_KEYS';
  constructor(message = 'multiple matching keys found in the JSON Web Key Set', options?: { cause?: unknown }) {
    super(message, options);
  }
}
/** The JWKS fetch timed out: AUTH-007. */
export class JWKSTimeout extends JOSEError {
  static override code: JoseErrorCode = 'ERR_JWKS_TIMEOUT';
  static override authCode: ErrorCode = 'AUTH-007';
  constructor(message = 'request timed out', options?: { cause?: unknown }) {
    super(message, options);
  }
}
/** A key matched, the signature did not verify: AUTH-004. */
export class JWSSignatureVerificationFailed extends JOSEError {
  static override code: JoseErrorCode = 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED';
  static override authCode: ErrorCode = 'AUTH-004';
  constructor(message = 'signature verification failed', options?: { cause?: unknown }) {
    super(message, options);
  }
}
