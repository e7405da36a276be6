// The Worker used by workerd.test.mjs: imports the installed `edgegate` package (bundled by
// esbuild with the workerd conditions) and answers POST {token, alg} with the verify result.
import { jwtVerify, createLocalJWKSet } from 'edgegate';

let sets = null; // built on the first request (no work at global scope)

export default {
  async fetch(request, env) {
    const { token, alg, keys, backend } = await request.json();
    try {
      sets ??= { RS256: createLocalJWKSet(env.RS_JWKS), HS256: createLocalJWKSet(env.HS_JWKS) };
      const { payload, protectedHeader } = await jwtVerify(token, sets[keys ?? alg], {
        issuer: env.ISSUER,
        audience: env.AUDIENCE,
        algorithms: [alg],
        ...(backend ? { backend } : {}),
      });
      return Response.json({ ok: true, sub: payload.sub, alg: protectedHeader.alg });
    } catch (e) {
      return Response.json({
        ok: false,
        code: e?.code ?? null,
        status: e?.status ?? null,
        name: e?.name ?? null,
        isError: e instanceof Error,
        message: String(e?.message ?? e),
      });
    }
  },
};
