// A real OpenID provider for the tests: `oidc-provider` (panva, a devDependency) on
// 127.0.0.1, issuing access tokens to client_credentials clients, with resource indicators
// (RFC 8707) deciding the token's format and signature:
//
//   - JWT access tokens (`typ: at+jwt`, `aud` = AUDIENCE) signed RS256 (default) or ES256 with
//     the provider's own private keys (they never leave it: a test can only ask for tokens);
//   - opaque access tokens (same audience) for RFC 7662 introspection (`features.introspection`,
//     endpoint `<issuer>/token/introspection`; the `gateway` client may call it);
//   - per-client claims through `extraTokenClaims` (`roles`, `org`, `sub` = the client id);
//   - short-lived tokens: `token(id, { ttl: 1 })` (the resource server's `accessTokenTTL`), the
//     way to get a genuinely expired token from the provider (wait past `exp`).
//
// Key rotation: oidc-provider reads its `jwks` once, when the `Provider` is constructed (there
// is no mutable keystore). `rotate()` builds a new Provider with a new key set and swaps it in
// behind the same HTTP server, so the issuer URL, discovery and `jwks_uri` stay the same and
// only the keys (and their `kid`s) change; `keepOld` keeps publishing the previous public keys
// (a rotation with overlap). Tokens are kept in the provider's memory adapter, so opaque tokens
// issued before a rotation are unknown afterwards.
//
// Outages: `down = 'error'` answers 503 to everything (discovery, JWKS, token, introspection),
// `down = 'hang'` never answers; `hits` counts requests per path.
//
//   const op = await startOidcProvider();
//   const tok = await op.token('alice');                  // roles ['user'], RS256
//   const adm = await op.token('root', { alg: 'ES256' }); // roles ['admin']
//   op.issuer, op.jwksUri, op.introspectionUrl, op.discovery, op.jwks(), await op.rotate()
//   await op.stop();
import http from 'node:http';
import { once } from 'node:events';
import { generateKeyPairSync, randomUUID } from 'node:crypto';

/** The audience (resource server) of every token this provider issues. */
export const AUDIENCE = 'urn:edgegate:api';
/** The client allowed to call the introspection endpoint (Basic auth). */
export const INTROSPECTION_CLIENT = { id: 'gateway', secret: 'gateway-client-secret-long-enough-for-tests' };

/** The clients and what their tokens carry (`sub` is always the client id). */
export const CLIENTS = {
  alice: { roles: ['user'], org: 'acme' },
  root: { roles: ['admin'], org: 'acme' },
  bob: { roles: ['user', 'admin'], org: 'globex' },
  nobody: { roles: [] },
};
const SECRET = (id) => `${id}-client-secret-long-enough-for-tests`;

/** Fresh private JWKs: one RS256 and one ES256 key, `kid`s tagged with `gen`. */
function keySet(gen) {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  return [
    { ...rsa, kid: `rs-${gen}`, alg: 'RS256', use: 'sig' },
    { ...ec, kid: `es-${gen}`, alg: 'ES256', use: 'sig' },
  ];
}

function publicOf(jwk) {
  const { d, p, q, dp, dq, qi, ...pub } = jwk;
  return pub;
}

// A resource indicator per (format, alg, ttl): `urn:edgegate:api/jwt/RS256/600`. Every one has
// the same audience; the provider reads the rest back from the indicator.
const resourceFor = ({ format = 'jwt', alg = 'RS256', ttl = 600 } = {}) => `${AUDIENCE}/${format}/${alg}/${ttl}`;
function resourceInfo(indicator) {
  const m = /^urn:edgegate:api\/(jwt|opaque)\/(RS256|ES256)\/(\d+)$/.exec(indicator);
  if (!m) return undefined;
  const [, format, alg, ttl] = m;
  return {
    scope: 'read write',
    audience: AUDIENCE,
    accessTokenTTL: Number(ttl),
    accessTokenFormat: format,
    ...(format === 'jwt' ? { jwt: { sign: { alg } } } : {}),
  };
}

/**
 * Starts the provider on 127.0.0.1 (`port` 0: any free port).
 * @returns {Promise<{issuer: string, jwksUri: string, tokenUrl: string, introspectionUrl: string,
 *   discovery: object, generation: number, down: false|'error'|'hang', hits: Map<string, number>,
 *   token: (clientId: string, opts?: {alg?: string, ttl?: number, format?: 'jwt'|'opaque', scope?: string}) => Promise<string>,
 *   jwks: () => {keys: object[]}, rotate: (opts?: {keepOld?: boolean}) => Promise<void>, stop: () => Promise<void>}>}
 */
export async function startOidcProvider({ port = 0 } = {}) {
  const { default: Provider } = await import('oidc-provider');
  const server = http.createServer();
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  const issuer = `http://127.0.0.1:${server.address().port}`;

  const clients = [
    ...Object.keys(CLIENTS).map((id) => ({ client_id: id, client_secret: SECRET(id), grant_types: ['client_credentials'], redirect_uris: [], response_types: [] })),
    { client_id: INTROSPECTION_CLIENT.id, client_secret: INTROSPECTION_CLIENT.secret, grant_types: ['client_credentials'], redirect_uris: [], response_types: [] },
  ];

  let current; // { provider, callback, privateKeys, published }
  const build = (privateKeys, published) => {
    const provider = new Provider(issuer, {
      clients,
      // The first key of each alg signs; the extra (old, public-only) keys are only published.
      jwks: { keys: privateKeys },
      features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        // Only the gateway client may introspect (the default lets any authenticated client).
        introspection: { enabled: true, allowedPolicy: (ctx) => ctx.oidc.client.clientId === INTROSPECTION_CLIENT.id },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => resourceFor(),
          useGrantedResource: () => true,
          getResourceServerInfo: (_ctx, indicator) => {
            const info = resourceInfo(indicator);
            if (!info) throw new Provider.errors.InvalidTarget();
            return info;
          },
        },
      },
      ttl: { ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? 600 },
      extraTokenClaims: (_ctx, token) => {
        const c = CLIENTS[token.clientId];
        return c ? { sub: token.clientId, ...c } : undefined;
      },
    });
    provider.on('server_error', () => {});
    return { provider, callback: provider.callback(), privateKeys, published };
  };

  const op = {
    issuer,
    jwksUri: `${issuer}/jwks`,
    tokenUrl: `${issuer}/token`,
    introspectionUrl: `${issuer}/token/introspection`,
    discovery: undefined,
    generation: 1,
    down: false,
    hits: new Map(),
    /** Requests to `path` so far. */
    count(path) {
      return op.hits.get(path) ?? 0;
    },
    /** The public JWK Set the provider publishes now. */
    jwks() {
      return { keys: current.published.map(publicOf) };
    },
    /** An access token for `clientId` (client_credentials, Basic auth). */
    async token(clientId, { alg = 'RS256', ttl = 600, format = 'jwt', scope = 'read' } = {}) {
      const res = await fetch(op.tokenUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${clientId}:${SECRET(clientId)}`).toString('base64')}`,
        },
        body: new URLSearchParams({ grant_type: 'client_credentials', scope, resource: resourceFor({ format, alg, ttl }) }),
      });
      const body = await res.json();
      if (res.status !== 200) throw new Error(`token for ${clientId}: ${res.status} ${JSON.stringify(body)}`);
      return body.access_token;
    },
    /** A new key set (new kids) behind the same issuer; `keepOld` also publishes the old public keys. */
    async rotate({ keepOld = false } = {}) {
      op.generation += 1;
      const fresh = keySet(`${op.generation}-${randomUUID().slice(0, 8)}`);
      const published = keepOld ? [...fresh, ...current.published] : fresh;
      // oidc-provider wants private keys in `jwks`; old keys stay published (and able to sign,
      // though the first key per alg is the one that signs new tokens).
      current = build(published, published);
    },
    async stop() {
      server.closeAllConnections?.();
      await new Promise((r) => server.close(r));
    },
  };

  server.on('request', (req, res) => {
    const path = (req.url ?? '').split('?')[0];
    op.hits.set(path, op.count(path) + 1);
    if (op.down === 'hang') return; // closed by stop()
    if (op.down) {
      res.writeHead(503, { 'content-type': 'text/plain' }).end('down');
      return;
    }
    current.callback(req, res);
  });

  const first = keySet(`1-${randomUUID().slice(0, 8)}`);
  current = build(first, first);
  const disco = await fetch(`${issuer}/.well-known/openid-configuration`);
  op.discovery = await disco.json();
  if (op.discovery.jwks_uri !== op.jwksUri || op.discovery.introspection_endpoint !== op.introspectionUrl) {
    await op.stop();
    throw new Error(`unexpected discovery document: ${JSON.stringify(op.discovery)}`);
  }
  return op;
}
