/**
 * edgegate: JWT / JWS verification with jose's API over a WebAssembly core.
 *
 * ```ts
 * import { jwtVerify, createRemoteJWKSet } from 'edgegate';
 * const JWKS = createRemoteJWKSet(new URL('https://idp.example/.well-known/jwks.json'));
 * const { payload } = await jwtVerify(token, JWKS, { issuer: 'https://idp.example', audience: 'api' });
 * ```
 *
 * The same API is exported by every runtime entry (Node ESM/CJS, browsers, workerd).
 */
export {
  jwtVerify,
  compactVerify,
  createLocalJWKSet,
  secs,
  type JWK,
  type JSONWebKeySet,
  type JWKSFunction,
  type KeyLike,
  type VerifyOptions,
  type JWTVerifyOptions,
  type JWTVerifyResult,
  type CompactVerifyResult,
} from './api.js';
export { createRemoteJWKSet, type RemoteJWKSetOptions, type RemoteJWKSFunction, type JWKSCacheSnapshot, type JWKSPersistence } from './remote.js';
export { decodeJwt, decodeProtectedHeader, inspectToken, type JWTPayload, type ProtectedHeaderParameters, type TokenInspection, type InspectOptions } from './inspect.js';
export * from './errors.js';
/** jose's error classes (`e instanceof errors.JWTExpired`), matching edgegate's errors. */
export * as errors from './jose-errors.js';
export { createRedisStore, COMPARE_AND_SET_LUA, type RedisStore, type RedisStoreOptions, type RedisClientLike } from './redis-store.js';
export { createKvStore, type KvStore, type KvStoreOptions, type KvNamespaceLike } from './kv-store.js';
export { Gate, createApiKey, type NewApiKey, type DecisionSummary, type SessionRecordLike, type GateOptions, type GateRequest, type GateDecision, type GateAllow, type GateDeny, type GateIdentity, type GateStore, type ApiKeyRecord, type RateLimitStore, type CompareAndSetResult } from './gate.js';
export type { GateConfig, ConfigProvider, ConfigRoute, ConfigRateLimit, ConfigTokenSource } from './config.generated.js';
export {
  runWithAuthContext,
  getAuthContext,
  getAuth,
  getCurrentUser,
  getCurrentSession,
  isAuthenticated,
  requireAuth,
  requireRole,
  requirePermission,
  hasRole,
  hasAnyRole,
  hasPermission,
  hasAllPermissions,
  globalAuthContext,
  hasAsyncContext,
  type AuthContext,
  type AuthSession,
} from './context.js';
export { Guard, contextOf, expressHandler, responseHeaders, identityOf, pairsFromRaw, type GuardOptions, type GuardEvents, type GuardEvent, type GuardDecision, type RequestInfo, type DenialInfo, type TrustProxy } from './guard.js';
export { createAuthMiddleware, createRBACMiddleware, createProtectedMiddleware, createExpressAuthMiddleware, createRateLimitByUserMiddleware, createRateLimitStorage, type RateLimitByUserOptions, type RateLimitResult, type RateLimitStorage, type AuthMiddlewareOptions, type AuthMiddlewareResult, type AuthMiddlewareError, type RBACMiddlewareOptions, type RequestContextLike, type TokenExtraction } from './factories.js';
export { SessionManager, MemorySessionStore, type SessionManagerOptions, type SessionStore, type StoredSession, type SessionUser, type CreatedSession } from './sessions.js';
export { createAdminClient, createAdminClientFromEnv, type AdminClient, type AdminClientOptions, type AdminUserProfile, type AdminProviderName, type GetUserOptions } from './idp-admin.js';
