// createRateLimitByUserMiddleware (the seed's options) over the gate's rate-limit policy:
// memory counters, roleLimits, skipRoles, the message, headers; and Redis storage against a
// real redis-server started here (two middleware instances share one exact limit).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createClient } from 'redis';
import { importEdgegate } from './helpers/scratch.mjs';

const eg = await importEdgegate();
const ctx = (sub, roles = []) => ({ user: { sub, provider: 'jwt', roles, permissions: [], org: null, claims: {} }, authenticatedAt: new Date() });

describe('createRateLimitByUserMiddleware', () => {
  it('memory: per user, roleLimits, skipRoles, message, headers', async () => {
    const rl = eg.createRateLimitByUserMiddleware({ maxRequests: 2, windowMs: 60_000, roleLimits: { premium: 4 }, skipRoles: ['super-admin'], message: 'Rate limit exceeded. Please try again later.' });
    const a1 = await rl(ctx('a'));
    assert.equal(a1.proceed, true);
    assert.ok(Object.keys(a1.headers).some((h) => /^ratelimit/i.test(h)), JSON.stringify(a1.headers));
    assert.equal((await rl(ctx('a'))).proceed, true);
    const a3 = await rl(ctx('a'));
    assert.deepEqual([a3.proceed, a3.error.statusCode, a3.error.code, a3.error.message], [false, 429, 'AUTH-016', 'Rate limit exceeded. Please try again later.']);
    assert.ok(Number(a3.headers['retry-after']) > 0);
    assert.equal((await rl(ctx('b'))).proceed, true, 'another user has its own counter');
    for (let i = 0; i < 4; i++) assert.equal((await rl(ctx('p', ['premium']))).proceed, true);
    assert.equal((await rl(ctx('p', ['premium']))).proceed, false);
    for (let i = 0; i < 5; i++) assert.equal((await rl(ctx('root', ['super-admin']))).proceed, true);
    assert.equal((await rl(undefined)).error.code, 'AUTH-005');
  });
});

describe('createRateLimitByUserMiddleware with Redis', () => {
  let server;
  let dir;
  after(() => {
    server?.kill();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('two instances share one exact limit', async () => {
    const srv = createServer();
    await new Promise((r) => srv.listen(0, '127.0.0.1', r));
    const { port } = srv.address();
    await new Promise((r) => srv.close(r));
    dir = mkdtempSync(join(tmpdir(), 'edgegate-rl-user-'));
    server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
    const url = `redis://127.0.0.1:${port}`;
    const probe = createClient({ url });
    probe.on('error', () => {});
    for (let i = 0; ; i++) {
      try {
        await probe.connect();
        break;
      } catch {
        if (i > 50) throw new Error('redis-server did not start');
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    await probe.quit();
    const s1 = eg.createRateLimitStorage({ type: 'redis', redis: { url, prefix: 'rlu:' } });
    const s2 = eg.createRateLimitStorage({ type: 'redis', redis: { url, prefix: 'rlu:' } });
    const one = eg.createRateLimitByUserMiddleware({ maxRequests: 5, windowMs: 60_000 }, s1);
    const two = eg.createRateLimitByUserMiddleware({ maxRequests: 5, windowMs: 60_000 }, s2);
    // Sequential, alternating instances: one shared counter.
    const rs = [];
    for (let i = 0; i < 8; i++) rs.push(await (i % 2 ? one : two)(ctx('shared')));
    assert.deepEqual(rs.map((r) => r.proceed), [true, true, true, true, true, false, false, false]);
    assert.equal(rs[5].error.code, 'AUTH-016');
    await s1.store.close();
    await s2.store.close();
  });
});
