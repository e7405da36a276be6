// Small HTTP pieces shared by the tests that run servers (origins, apps) on 127.0.0.1.

/** Starts `server` on an ephemeral 127.0.0.1 port; its base URL. */
export function listen(server) {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${server.address().port}`)));
}

/** Stops `server`, closing kept-alive connections first (a no-op for a missing server). */
export async function close(server) {
  if (!server) return;
  server.closeAllConnections?.();
  await new Promise((r) => server.close(r));
}

/** `fetch(base + path)` with an optional bearer token: status, headers, text, and the JSON body if any. */
export async function get(base, path, tok, init = {}) {
  const headers = { ...(init.headers ?? {}) };
  if (tok) headers.authorization = `Bearer ${tok}`;
  const r = await fetch(base + path, { ...init, headers });
  const text = await r.text();
  return { status: r.status, headers: r.headers, text, json: text && /json/.test(r.headers.get('content-type') ?? '') ? JSON.parse(text) : undefined };
}

/** `tok` with `roles: ['admin']` written into its payload and the old signature kept. */
export function tamperRoles(tok) {
  const [h, p, s] = tok.split('.');
  const claims = JSON.parse(Buffer.from(p, 'base64url'));
  return `${h}.${Buffer.from(JSON.stringify({ ...claims, roles: ['admin'] })).toString('base64url')}.${s}`;
}
