// edgegate as a Cloudflare Worker in front of an origin (docs/worker.md).
//
// A thin host: HTTP glue only. Every decision (routes, tokens, roles, mTLS, path
// normalization) is the gate's (`Gate` from the `edgegate` package, the wasm core). This file
// turns a `Request` into a gate request, answers CORS preflights with the headers the gate
// computed (never forwarded), answers denials with the gate's problem+json, and forwards
// allowed requests to ORIGIN_URL with the identity headers the gate computed.
//
// Bindings (wrangler.toml): EDGEGATE_CONFIG (the config JSON), ORIGIN_URL, AUTH_ENABLED, and
// secrets such as JWT_SECRET (`wrangler secret put JWT_SECRET`). Every string binding is
// the gate's environment for `{"env": "NAME"}` config values. EDGEGATE_KV (optional, a KV
// namespace): API key records (`apikey:<id>`) and the revocation list (`revoked:<id>`),
// through the package's `createKvStore`.
//
// The client's address for `ip` rate limits is `CF-Connecting-IP` (set by Cloudflare, not by
// the client). The rate-limit headers the gate computed (`responseHeaders`) go on every
// response: denials, preflights and the origin's answers.
//
// Never logged: tokens, headers, secrets. Logged: the path of a bad config field, warnings.
import { Gate, createKvStore } from 'edgegate';

/** Once per isolate: `{ gate, origin }` or `{ failed: true }` (fail closed). */
let state = null;

const CONFIG_ERROR = JSON.stringify({
  code: 'AUTH-015',
  detail: 'the gate is misconfigured',
  status: 500,
  title: 'configuration error',
  type: 'urn:edgegate:error:AUTH-015',
});

function problem(status, body, extra) {
  const headers = new Headers({ 'content-type': 'application/problem+json', 'cache-control': 'no-store' });
  for (const [k, v] of Object.entries(extra ?? {})) if (v !== undefined && v !== null && v !== '') headers.set(k, String(v));
  return new Response(body, { status, headers });
}

/** The gate's response headers (`RateLimit-Policy`, `RateLimit`, `Retry-After`) on `res`. */
function withResponseHeaders(res, decision) {
  const extra = Object.entries(decision?.responseHeaders ?? {});
  if (extra.length === 0) return res;
  // An origin's (or fetch's) response may have immutable headers: copy it.
  const out = new Response(res.body, res);
  for (const [k, v] of extra) out.headers.set(k, String(v));
  return out;
}

const configError = () => problem(500, CONFIG_ERROR);

function init(env) {
  const strings = {};
  for (const [k, v] of Object.entries(env ?? {})) if (typeof v === 'string') strings[k] = v;
  let origin;
  try {
    origin = new URL(strings.ORIGIN_URL ?? '');
    if (origin.protocol !== 'https:' && origin.protocol !== 'http:') throw new TypeError('scheme');
  } catch {
    console.error('edgegate: ORIGIN_URL is missing or not an http(s) URL; answering 500 AUTH-015');
    return { failed: true };
  }
  const config = env?.EDGEGATE_CONFIG;
  if (config === undefined || config === null || config === '') {
    console.error('edgegate: EDGEGATE_CONFIG is not set; answering 500 AUTH-015');
    return { failed: true };
  }
  // API keys and revocation: the KV namespace when it is bound (else the gate has no store:
  // a config that needs one is refused at start-up, naming the field).
  const store = env?.EDGEGATE_KV ? createKvStore(env.EDGEGATE_KV) : undefined;
  let gate;
  try {
    gate = Gate.create(config, { env: strings, store });
  } catch (e) {
    // `reason` is the path of the bad field (e.g. `providers[0].secret`); the message is not
    // logged so that no value from the config or the environment reaches the logs.
    const field = typeof e?.reason === 'string' && e.reason ? e.reason : '<document>';
    console.error(`edgegate: EDGEGATE_CONFIG rejected (${e?.code ?? 'AUTH-015'}) at ${field}; answering 500 AUTH-015`);
    return { failed: true };
  }
  for (const w of gate.warnings) console.warn(`edgegate: ${w}`);
  // Only the origin's scheme, host and base path are used; a trailing `/` is dropped.
  const base = origin.pathname.replace(/\/+$/, '');
  return { gate, origin: `${origin.origin}${base}` };
}

/** A CORS preflight answered at the edge: the gate's status (204) and headers, no body. */
function preflight(decision) {
  const headers = new Headers();
  for (const [k, v] of Object.entries(decision.headers ?? {})) headers.set(k, String(v));
  return new Response(null, { status: 204, headers });
}

async function forward(request, decision, origin, url) {
  const headers = new Headers(request.headers);
  // Exact names from the core: the identity header names and every incoming header that reads
  // as one (`X_User_Id`, `x.user.roles`); no name matching here.
  for (const name of decision.stripHeaders ?? []) headers.delete(name);
  headers.delete('host');
  for (const [name, value] of Object.entries(decision.headers ?? {})) headers.set(name, value);
  // The core's origin-ready path (already percent-encoded); the request's own path only
  // when the gate was disabled and decided nothing about it.
  const path = typeof decision.forwardPath === 'string' ? decision.forwardPath : url.pathname;
  const hasBody = request.method !== 'GET' && request.method !== 'HEAD';
  try {
    return await fetch(`${origin}${path}${url.search}`, {
      method: request.method,
      headers,
      body: hasBody ? request.body : undefined,
      redirect: 'manual',
    });
  } catch {
    console.error('edgegate: origin unreachable');
    return problem(
      502,
      JSON.stringify({ detail: 'the origin could not be reached', status: 502, title: 'bad gateway', type: 'about:blank' }),
    );
  }
}

export default {
  async fetch(request, env) {
    state ??= init(env);
    if (state.failed) return configError();
    const url = new URL(request.url);
    let decision;
    try {
      decision = await state.gate.decide({
        method: request.method,
        path: `${url.pathname}${url.search}`,
        headers: request.headers,
        // Cloudflare's view of the client (not a header the client controls on Cloudflare).
        clientIp: request.headers.get('cf-connecting-ip') ?? undefined,
        tlsClientAuth: request.cf?.tlsClientAuth ?? null,
      });
    } catch (e) {
      console.error(`edgegate: no decision (${e?.code ?? e?.name ?? 'error'}); answering 500 AUTH-015`);
      return configError();
    }
    // A preflight has `allow: false`: it is answered here and never reaches the origin.
    if (decision.preflight === true) return preflight(decision);
    if (decision.allow !== true) {
      return problem(decision.status, decision.body, {
        ...decision.responseHeaders,
        'www-authenticate': decision.wwwAuthenticate,
      });
    }
    if (decision.reason === 'shadow' && decision.shadow) {
      console.warn(`edgegate: shadow route ${decision.route ?? '?'} would deny (${decision.shadow.code})`);
    }
    return withResponseHeaders(await forward(request, decision, state.origin, url), decision);
  },
};
