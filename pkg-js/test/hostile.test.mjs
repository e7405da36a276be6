// Hostile inputs through the packed package (issue 13): jwtVerify, createRemoteJWKSet against
// hostile 127.0.0.1 servers (slow, never finishing, redirecting to another host, 50 MB) and
// Gate.decide. Each case gets a typed error (or the right decision) in bounded time, and the
// process memory stays bounded. The same classes natively: tests/hostile.rs.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { after, before, describe, it } from 'node:test';
import v8 from 'node:v8';
import vm from 'node:vm';
import * as jose from 'jose';
import { importEdgegate } from './helpers/scratch.mjs';

const eg = await importEdgegate();
const SECRET = 'hostile-js-test-secret-of-32-bytes-or-more';
const key = new TextEncoder().encode(SECRET);
// A real GC before and after each memory measurement (node runs tests without --expose-gc).
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');
const b64 = (s) => Buffer.from(s).toString('base64url');

/** Signs raw header and payload bytes with HS256 (any bytes: hostile JSON too). */
async function hsRaw(header, payload) {
  const input = `${b64(header)}.${b64(payload)}`;
  const k = await crypto.subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const sig = Buffer.from(await crypto.subtle.sign('HMAC', k, new TextEncoder().encode(input))).toString('base64url');
  return `${input}.${sig}`;
}
const hs = (claims) => hsRaw('{"alg":"HS256","typ":"JWT"}', typeof claims === 'string' ? claims : JSON.stringify(claims));

/** Runs `f`, asserts it settles within `ms`; returns 'ok' or the error code. */
async function bounded(what, ms, f) {
  const t0 = performance.now();
  let out;
  try {
    await f();
    out = 'ok';
  } catch (e) {
    assert.ok(eg.isAuthError(e), `${what}: untyped error ${e && e.stack}`);
    out = e.code;
  }
  const took = performance.now() - t0;
  assert.ok(took < ms, `${what}: took ${took.toFixed(0)} ms, bound ${ms} ms`);
  return out;
}

/** Asserts the heap and RSS grew by less than `mb` over `f` (after a full GC). */
async function memoryBounded(what, mb, f) {
  gc();
  const before = process.memoryUsage();
  const r = await f();
  gc();
  const after = process.memoryUsage();
  const heap = (after.heapUsed - before.heapUsed) / 2 ** 20;
  const rss = (after.rss - before.rss) / 2 ** 20;
  assert.ok(heap < mb, `${what}: heap grew ${heap.toFixed(1)} MB (bound ${mb})`);
  assert.ok(rss < mb * 4, `${what}: rss grew ${rss.toFixed(1)} MB (bound ${mb * 4})`);
  return r;
}

const verify = (t) => eg.jwtVerify(t, key);

describe('hostile tokens through jwtVerify', () => {
  it('a 1 MB token is AUTH-006 at once, memory bounded', async () => {
    const big = await hs({ pad: 'a'.repeat(1 << 20) });
    await memoryBounded('1 MB tokens x 50', 64, async () => {
      for (let i = 0; i < 50; i++) assert.equal(await bounded('1 MB token', 2000, () => verify(big)), 'AUTH-006');
    });
    assert.equal(await bounded('1 MB junk', 2000, () => verify('A'.repeat(1 << 20))), 'AUTH-006');
  });

  it('100,000-deep JSON is AUTH-006 without a stack overflow', async () => {
    // Deep JSON inside the token budget (16 KiB) and far beyond it.
    for (const n of [5_000, 100_000]) {
      const claims = '{"a":'.repeat(n) + '1' + '}'.repeat(n);
      assert.equal(await bounded(`${n}-deep claims`, 2000, async () => verify(await hs(claims))), 'AUTH-006');
      const arr = '['.repeat(n) + ']'.repeat(n);
      assert.equal(await bounded(`${n}-deep header`, 2000, async () => verify(await hsRaw(arr, '{}'))), 'AUTH-006');
    }
  });

  it('invalid UTF-8, lone surrogates and duplicate members are AUTH-006', async () => {
    for (const bad of [[0xff, 0xfe], [0xc3, 0x28], [0xed, 0xa0, 0x80]]) {
      const claims = Buffer.concat([Buffer.from('{"sub":"'), Buffer.from(bad), Buffer.from('"}')]);
      const input = `${b64('{"alg":"HS256"}')}.${claims.toString('base64url')}`;
      const k = await crypto.subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
      const sig = Buffer.from(await crypto.subtle.sign('HMAC', k, new TextEncoder().encode(input))).toString('base64url');
      assert.equal(await bounded('invalid utf-8', 1000, () => verify(`${input}.${sig}`)), 'AUTH-006');
    }
    assert.equal(await bounded('lone surrogate', 1000, async () => verify(await hs('{"sub":"\\ud800"}'))), 'AUTH-006');
    assert.equal(await bounded('duplicate claim', 1000, async () => verify(await hs('{"sub":"a","sub":"b"}'))), 'AUTH-006');
    assert.equal(await bounded('escaped duplicate', 1000, async () => verify(await hs('{"sub":"a","s\\u0075b":"b"}'))), 'AUTH-006');
    assert.equal(await bounded('duplicate alg', 1000, async () => verify(await hsRaw('{"alg":"HS256","alg":"none"}', '{}'))), 'AUTH-006');
  });

  it('exp of 1e400, -0 and 2^53+1', async () => {
    assert.equal(await bounded('exp 1e400', 1000, async () => verify(await hs('{"sub":"a","exp":1e400}'))), 'AUTH-006');
    assert.equal(await bounded('exp -0', 1000, async () => verify(await hs('{"sub":"a","exp":-0}'))), 'AUTH-002');
    assert.equal(await bounded('exp 2^53+1', 1000, async () => verify(await hs('{"sub":"a","exp":9007199254740993}'))), 'ok');
    assert.notEqual(await bounded('exp as a string', 1000, async () => verify(await hs('{"sub":"a","exp":"9999999999"}'))), 'ok');
  });

  it('kid values with path, SQL and control characters never match a key', async () => {
    const { publicKey, privateKey } = await jose.generateKeyPair('ES256', { extractable: true });
    const set = eg.createLocalJWKSet({ keys: [{ ...(await jose.exportJWK(publicKey)), kid: 'real', alg: 'ES256' }] });
    for (const kid of ['../../../../etc/passwd', "' OR 1=1 --", 'kid\u0000null', '\r\nX-Injected: 1', 'https://evil.example/jwks', '%2e%2e%2f']) {
      const t = await new jose.SignJWT({ sub: 'a' }).setProtectedHeader({ alg: 'ES256', kid }).sign(privateKey);
      const e = await eg.jwtVerify(t, set).catch((x) => x);
      assert.ok(eg.isAuthError(e), String(e));
      assert.equal(e.code, 'AUTH-001', kid);
      assert.ok(!e.message.includes(kid), 'the error echoes the kid');
    }
  });
});

/** A 127.0.0.1 server whose behaviour each test sets. */
async function server() {
  const s = { hits: 0, behave: (req, res) => res.end('{}') };
  s.server = createServer((req, res) => {
    s.hits++;
    s.behave(req, res);
  });
  s.server.listen(0, '127.0.0.1');
  await once(s.server, 'listening');
  s.url = `http://127.0.0.1:${s.server.address().port}/jwks`;
  s.close = () => {
    s.server.closeAllConnections();
    s.server.close();
  };
  return s;
}

describe('hostile JWKS servers through createRemoteJWKSet', () => {
  let srv;
  let token;
  let jwk;
  before(async () => {
    srv = await server();
    const { publicKey, privateKey } = await jose.generateKeyPair('ES256', { extractable: true });
    jwk = { ...(await jose.exportJWK(publicKey)), kid: 'k', alg: 'ES256' };
    token = await new jose.SignJWT({ sub: 'a' }).setProtectedHeader({ alg: 'ES256', kid: 'k' }).setExpirationTime('5m').sign(privateKey);
  });
  after(() => srv.close());
  const remote = (o = {}) => eg.createRemoteJWKSet(srv.url, { timeoutDuration: 300, ...o });

  it('a slow answer times out: AUTH-007 in bounded time', async () => {
    srv.behave = (req, res) => setTimeout(() => res.end(JSON.stringify({ keys: [jwk] })), 5000).unref();
    assert.equal(await bounded('slow JWKS', 2000, () => eg.jwtVerify(token, remote())), 'AUTH-007');
  });

  it('a body that never finishes: AUTH-007 in bounded time', async () => {
    srv.behave = (req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const tick = setInterval(() => res.write(' '), 20);
      res.on('close', () => clearInterval(tick));
    };
    assert.equal(await bounded('never-ending JWKS', 2000, () => eg.jwtVerify(token, remote())), 'AUTH-007');
  });

  it('a redirect to another host is not followed: AUTH-007', async () => {
    const other = await server();
    try {
      other.behave = (req, res) => res.end(JSON.stringify({ keys: [jwk] }));
      srv.behave = (req, res) => {
        res.writeHead(302, { location: other.url.replace('127.0.0.1', 'localhost') });
        res.end();
      };
      assert.equal(await bounded('redirect', 2000, () => eg.jwtVerify(token, remote())), 'AUTH-007');
      assert.equal(other.hits, 0, 'the redirect was followed');
    } finally {
      other.close();
    }
  });

  it('a 50 MB body is refused at the byte budget, memory bounded', async () => {
    const chunk = Buffer.alloc(1 << 20, 0x20);
    srv.behave = (req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      let sent = 0;
      const pump = () => {
        while (sent < 50 && res.write(chunk)) sent++;
        if (sent >= 50) res.end();
      };
      res.on('drain', pump);
      pump();
    };
    await memoryBounded('50 MB JWKS', 32, async () => {
      assert.equal(await bounded('50 MB JWKS', 5000, () => eg.jwtVerify(token, remote({ timeoutDuration: 5000 }))), 'AUTH-007');
    });
  });

  it('a JWKS of 10,000 keys is refused (AUTH-007)', async () => {
    const body = JSON.stringify({ keys: Array.from({ length: 10_000 }, (_, i) => ({ kty: 'EC', kid: `k${i}` })) });
    srv.behave = (req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(body);
    };
    assert.equal(await bounded('10,000 keys', 3000, () => eg.jwtVerify(token, remote())), 'AUTH-007');
  });
});

describe('hostile requests through Gate.decide', () => {
  const env = { JWT_SECRET: SECRET };
  const config = {
    providers: [{ type: 'jwt', name: 'main', issuer: 'https://issuer.example', audience: 'api', secret: { env: 'JWT_SECRET' } }],
    tokenSources: [{ header: 'Authorization', scheme: 'Bearer' }, { cookie: 'session' }, { query: 'access_token' }],
    routes: [{ path: '/health', public: true }, { path: '/api/**' }],
  };
  const good = () => hs({ iss: 'https://issuer.example', aud: 'api', sub: 'user-1', exp: Math.floor(Date.now() / 1000) + 600 });

  it('header floods, duplicated Authorization and a 64 KB header', async () => {
    const gate = eg.Gate.create(config, { env });
    const t = await good();
    const flood = Array.from({ length: 500 }, (_, i) => [`x-junk-${i}`, 'v'.repeat(100)]);
    let d;
    assert.equal(await bounded('500 headers', 3000, async () => {
      d = await gate.decide({ method: 'GET', path: '/api/x', headers: [...flood, ['authorization', `Bearer ${t}`]] });
    }), 'ok');
    assert.equal(d.allow, true);
    d = await gate.decide({ method: 'GET', path: '/api/x', headers: [['authorization', `Bearer ${'A'.repeat(64 * 1024)}`]] });
    assert.equal(d.code, 'AUTH-006');
    d = await gate.decide({ method: 'GET', path: '/api/x', headers: [['Authorization', `Bearer ${t}`], ['authorization', `Bearer ${t}`]] });
    assert.equal(d.allow, false);
    d = await gate.decide({ method: 'GET', path: '/api/x', headers: { authorization: [`Bearer ${t}`, 'Bearer x'] } });
    assert.equal(d.allow, false);
  });

  it('identity headers in odd case or with whitespace are stripped', async () => {
    const gate = eg.Gate.create(config, { env });
    const t = await good();
    const forged = ['x-user-id', 'X-USER-ROLES', 'X_User_Id', 'x.user.permissions', 'X-Auth-Claims'];
    const d = await gate.decide({ method: 'GET', path: '/api/x', headers: [['authorization', `Bearer ${t}`], ...forged.map((n) => [n, 'admin'])] });
    assert.equal(d.allow, true);
    for (const n of forged) assert.ok(d.stripHeaders.some((s) => s.toLowerCase() === n.toLowerCase()), `${n} not stripped: ${d.stripHeaders}`);
    assert.equal(d.headers['X-User-Id'], 'user-1');
  });

  it('cookies and query strings at their limits; memory bounded over 2,000 hostile decisions', async () => {
    const gate = eg.Gate.create(config, { env });
    const t = await good();
    const over = await hs({ iss: 'https://issuer.example', aud: 'api', sub: 'u', exp: 4102444800, p: 'a'.repeat(16 * 1024) });
    assert.equal((await gate.decide({ method: 'GET', path: '/api/x', headers: { cookie: `a=1; session=${t}` } })).allow, true);
    assert.equal((await gate.decide({ method: 'GET', path: '/api/x', headers: { cookie: `session=${over}` } })).code, 'AUTH-006');
    assert.equal((await gate.decide({ method: 'GET', path: `/api/x?access_token=${t}` })).allow, true);
    assert.equal((await gate.decide({ method: 'GET', path: `/api/x?access_token=${over}` })).code, 'AUTH-006');
    const many = Array.from({ length: 10_000 }, (_, i) => `c${i}=v${i}`);
    assert.equal(await bounded('10,000 cookies', 3000, async () => {
      const d = await gate.decide({ method: 'GET', path: '/api/x', headers: { cookie: many.join('; ') } });
      assert.equal(d.code, 'AUTH-005');
    }), 'ok');
    assert.equal(await bounded('10,000 query parameters', 3000, async () => {
      const d = await gate.decide({ method: 'GET', path: `/api/x?${many.join('&')}` });
      assert.equal(d.code, 'AUTH-005');
    }), 'ok');
    await memoryBounded('2,000 hostile decisions', 64, async () => {
      for (let i = 0; i < 2_000; i++) {
        const d = await gate.decide({ method: 'GET', path: `/api/${i}`, headers: { authorization: `Bearer ${over}`, 'x-user-id': 'forged' } });
        assert.equal(d.allow, false);
      }
    });
  });
});
