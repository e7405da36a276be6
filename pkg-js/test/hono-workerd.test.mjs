// edgegate/hono on Cloudflare Workers: a Hono app bundled with the `workerd` conditions from
// the installed tarball, run in workerd (Miniflare), real requests, jose-signed tokens.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import * as jose from 'jose';
import { Miniflare } from 'miniflare';
import { bundleForWorkerd } from './helpers/workerd.mjs';
import { scratchDir } from './helpers/scratch.mjs';

const SECRET = 'hono-workerd-secret-of-at-least-32-bytes';

const WORKER = `
import { Hono } from 'hono';
import { gate } from 'edgegate/hono';
import { getAuth } from 'edgegate';
const config = { providers: [{ type: 'jwt' }], routes: [{ path: '/health', public: true }, { path: '/**' }] };
let mw;
export default {
  fetch(req, env, ctx) {
    const app = new Hono();
    mw ??= gate(config, { env });
    app.use('*', mw);
    app.get('/health', (c) => c.json({ auth: c.get('auth') }));
    app.get('/me', async (c) => { await new Promise((r) => setTimeout(r, 1)); return c.json({ sub: c.get('auth').sub, ip: c.req.header('cf-connecting-ip') ?? null, ctx: getAuth()?.sub ?? null }); });
    return app.fetch(req, env, ctx);
  },
};
`;

test('edgegate/hono in workerd', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(path.join(scratchDir, 'hono-workerd-'));
  const out = path.join(dir, 'dist');
  mkdirSync(out, { recursive: true });
  let mf;
  try {
    writeFileSync(path.join(dir, 'worker.mjs'), WORKER);
    await bundleForWorkerd({ entryPoints: [path.join(dir, 'worker.mjs')] }, out);
    mf = new Miniflare({
      modules: true,
      scriptPath: path.join(out, 'worker.js'),
      modulesRoot: out,
      modulesRules: [
        { type: 'ESModule', include: ['**/*.js', '**/*.mjs'] },
        { type: 'CompiledWasm', include: ['**/*.wasm'] },
      ],
      compatibilityDate: '2025-09-01',
      compatibilityFlags: ['nodejs_als'],
      bindings: { JWT_SECRET: SECRET, JWT_ISSUER: 'https://issuer.example' },
    });
    const token = await new jose.SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setIssuer('https://issuer.example').setSubject('w1').setExpirationTime('5m').sign(new TextEncoder().encode(SECRET));
    const ok = await mf.dispatchFetch('http://x.test/me', { headers: { authorization: `Bearer ${token}` } });
    assert.equal(ok.status, 200, await ok.clone().text());
    const body = await ok.json();
    assert.equal(body.sub, 'w1');
    const no = await mf.dispatchFetch('http://x.test/me');
    assert.equal(no.status, 401);
    assert.match(no.headers.get('www-authenticate'), /^Bearer/);
    assert.equal((await no.json()).code, 'AUTH-005');
    const pub = await mf.dispatchFetch('http://x.test/health');
    assert.deepEqual(await pub.json(), { auth: null });
  } finally {
    await mf?.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});
