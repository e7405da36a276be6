// Issue 7 finding 14: (a) jose's key selection in the key function of createLocalJWKSet,
// (b) a verified-token cache that never serves what a fresh check would refuse, (c) bounded
// streaming reads of discovery / introspection bodies, (d) misconfigurations refused at
// Gate.create.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { describe, it, before } from 'node:test';
import * as jose from 'jose';
import { importEdgegate } from './helpers/scratch.mjs';

const eg = await importEdgegate();
const NOW = Math.floor(Date.now() / 1000);
const at = (s) => new Date(s * 1000);

const k = {};
before(async () => {
  for (const [name, alg, extra] of [
    ['rsa', 'RS256', {}],
    ['ec', 'ES256', {}],
    ['ec2', 'ES256', {}],
    ['p384', 'ES384', {}],
    ['ed', 'EdDSA', { crv: 'Ed25519' }],
  ]) {
    const { publicKey, privateKey } = await jose.generateKeyPair(alg, { extractable: true, ...extra });
    k[name] = { publicKey, privateKey, jwk: await jose.exportJWK(publicKey) };
  }
});

async function rejectsCode(p, code, msg) {
  await assert.rejects(p, (e) => eg.isAuthError(e) && e.code === code, msg);
}

describe('(a) createLocalJWKSet key function: jose key selection by the core', () => {
  it('matches kty/crv to alg, the key alg, use and key_ops, not only kid', async () => {
    const JWKS = eg.createLocalJWKSet({
      keys: [
        { ...k.rsa.jwk, kid: 'r', alg: 'RS256', use: 'sig' },
        { ...k.ec.jwk, kid: 'e' },
        { ...k.p384.jwk, kid: 'p', key_ops: ['verify'] },
        { ...k.ed.jwk, kid: 'd', use: 'sig' },
      ],
    });
    // No kid: the key whose type fits the alg, not the first key.
    assert.equal((await JWKS({ alg: 'ES256' })).x, k.ec.jwk.x);
    assert.equal((await JWKS({ alg: 'ES384' })).x, k.p384.jwk.x);
    assert.equal((await JWKS({ alg: 'EdDSA' })).x, k.ed.jwk.x);
    assert.equal((await JWKS({ alg: 'RS256' })).n, k.rsa.jwk.n);
    assert.equal((await JWKS({ alg: 'ES256', kid: 'e' })).kid, 'e');
    // A kid naming a key of another type / curve / alg: no key (jose: JWKSNoMatchingKey).
    await rejectsCode(JWKS({ alg: 'ES256', kid: 'r' }), 'AUTH-001', 'RSA key for ES256');
    await rejectsCode(JWKS({ alg: 'ES384', kid: 'e' }), 'AUTH-001', 'P-256 key for ES384');
    await rejectsCode(JWKS({ alg: 'PS256', kid: 'r' }), 'AUTH-001', 'key alg RS256 for PS256');
    await rejectsCode(JWKS({ alg: 'RS256', kid: 'e' }), 'AUTH-001', 'EC key for RS256');
    await rejectsCode(JWKS({ alg: 'none' }), 'AUTH-001', 'alg none');
    await rejectsCode(JWKS({ alg: 'HS256' }), 'AUTH-001', 'no HMAC key');
    await rejectsCode(JWKS({ kid: 'e' }), 'AUTH-001', 'no alg');
  });

  it('several usable keys: an error that iterates over them (jose JWKSMultipleMatchingKeys)', async () => {
    const JWKS = eg.createLocalJWKSet({ keys: [{ ...k.ec.jwk, kid: 'a' }, { ...k.ec2.jwk, kid: 'b' }, { ...k.rsa.jwk, kid: 'r' }] });
    let err;
    try {
      await JWKS({ alg: 'ES256' });
    } catch (e) {
      err = e;
    }
    assert.ok(eg.isAuthError(err) && err.code === 'AUTH-001', 'several candidates are not silently the first');
    const seen = [];
    for await (const jwk of err) seen.push(jwk.kid);
    assert.deepEqual(seen, ['a', 'b']);
    assert.equal((await JWKS({ alg: 'ES256', kid: 'b' })).x, k.ec2.jwk.x);
  });

  it('the key function still verifies tokens through jwtVerify', async () => {
    const JWKS = eg.createLocalJWKSet({ keys: [{ ...k.rsa.jwk, kid: 'r' }, { ...k.ec.jwk, kid: 'e' }] });
    const t = await new jose.SignJWT({ sub: 'u' }).setProtectedHeader({ alg: 'ES256' }).setExpirationTime(NOW + 60).sign(k.ec.privateKey);
    assert.equal((await eg.jwtVerify(t, JWKS)).payload.sub, 'u');
  });
});

describe('(b) verified-token cache: never serves what a fresh check refuses', () => {
  const sign = (claims) => new jose.SignJWT({ sub: 'u', ...claims }).setProtectedHeader({ alg: 'ES256' }).sign(k.ec.privateKey);

  // A plain JWK object: the same key set entry (and cache) on every call.
  it('re-checks nbf at the current time on a hit', async () => {
    const t = await sign({ nbf: NOW + 300, exp: NOW + 900 });
    const opts = { cache: { max: 8 } };
    assert.equal((await eg.jwtVerify(t, k.ec.jwk, { ...opts, currentDate: at(NOW + 400) })).payload.sub, 'u');
    // Cached: at a time before nbf a fresh check fails, so must the cache.
    await assert.rejects(eg.jwtVerify(t, k.ec.jwk, { ...opts, currentDate: at(NOW) }), (e) => e.code === 'AUTH-001' && e.claim === 'nbf');
    await assert.rejects(eg.jwtVerify(t, k.ec.jwk, { currentDate: at(NOW) }), (e) => e.code === 'AUTH-001' && e.claim === 'nbf');
    // And after exp.
    assert.equal((await eg.jwtVerify(t, k.ec.jwk, { ...opts, currentDate: at(NOW + 400) })).payload.sub, 'u');
    await rejectsCode(eg.jwtVerify(t, k.ec.jwk, { ...opts, currentDate: at(NOW + 901) }), 'AUTH-002');
  });

  it('re-checks an iat in the future (maxTokenAge) at the current time', async () => {
    const t = await sign({ iat: NOW + 200, exp: NOW + 9000 });
    const opts = { cache: { max: 8 }, maxTokenAge: '1 hour' };
    assert.equal((await eg.jwtVerify(t, k.ec.jwk, { ...opts, currentDate: at(NOW + 300) })).payload.sub, 'u');
    await assert.rejects(eg.jwtVerify(t, k.ec.jwk, { ...opts, currentDate: at(NOW) }), (e) => e.code === 'AUTH-001' && e.claim === 'iat');
    // Too old (jose: JWTExpired on iat).
    await assert.rejects(eg.jwtVerify(t, k.ec.jwk, { ...opts, currentDate: at(NOW + 200 + 3601) }), (e) => e.code === 'AUTH-002' && e.claim === 'iat');
  });

  it('keys on the options and the key', async () => {
    const t = await sign({ exp: NOW + 600, iss: 'a' });
    const opts = { cache: { max: 8 } };
    await eg.jwtVerify(t, k.ec.jwk, opts);
    await rejectsCode(eg.jwtVerify(t, k.ec.jwk, { ...opts, issuer: 'b' }), 'AUTH-001');
    await assert.rejects(eg.jwtVerify(t, k.ec2.jwk, opts), (e) => e.code === 'AUTH-004');
  });
});

/** A local server whose every answer is an endless body (or a huge content-length). */
async function endlessServer(mode) {
  let sent = 0;
  const sockets = new Set();
  const server = createServer((req, res) => {
    req.resume();
    if (mode === 'length') {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(1 << 30) });
      res.write('{"issuer":"');
      return; // never finishes
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    res.write('{"active": true, "pad": "');
    const pump = () => {
      while (!res.destroyed) {
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
    };
    res.on('error', () => {});
    pump();
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    sent: () => sent,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

describe('(c) discovery and introspection bodies are read streaming and bounded', () => {
  for (const mode of ['endless', 'length']) {
    it(`${mode} body: the read stops early, the decision is AUTH-014 in bounded time`, async () => {
      const srv = await endlessServer(mode);
      try {
        const gate = eg.Gate.create({
          providers: [{ type: 'oidc', name: 'idp', issuer: srv.url, audience: 'api', introspection: { url: `${srv.url}/introspect`, clientId: 'gw', clientSecret: 's' } }],
          routes: [{ path: '/**' }],
        }, { timeoutDuration: 15_000 });
        // Introspection (an opaque token).
        let t0 = Date.now();
        let d = await gate.decide({ method: 'GET', path: '/x', headers: { authorization: 'Bearer opaque-token-123' } });
        assert.equal(d.allow, false);
        assert.ok(['AUTH-007', 'AUTH-014'].includes(d.code), d.code);
        assert.ok(Date.now() - t0 < 10_000, `took ${Date.now() - t0} ms`);
        // Discovery (a JWT from the issuer).
        const jwt = await new jose.SignJWT({ sub: 'u' }).setProtectedHeader({ alg: 'ES256', kid: 'x' }).setIssuer(srv.url).setAudience('api').setExpirationTime(NOW + 60).sign(k.ec.privateKey);
        t0 = Date.now();
        d = await gate.decide({ method: 'GET', path: '/x', headers: { authorization: `Bearer ${jwt}` } });
        assert.equal(d.allow, false);
        assert.ok(['AUTH-007', 'AUTH-014'].includes(d.code), d.code);
        assert.ok(Date.now() - t0 < 10_000, `took ${Date.now() - t0} ms`);
        // The server was cut off near the limit (512 KiB), not read for seconds.
        assert.ok(srv.sent() < 64 * 1024 * 1024, `server sent ${srv.sent()} bytes`);
      } finally {
        await srv.close();
      }
    });
  }
});

describe('(d) Gate.create refuses what the config needs and the options lack', () => {
  it('a custom provider without customVerify', () => {
    const config = { providers: [{ type: 'custom', name: 'sessions' }], routes: [{ path: '/**' }] };
    assert.throws(() => eg.Gate.create(config), (e) => e instanceof eg.ConfigError && e.code === 'AUTH-015' && e.reason === 'options.customVerify' && /customVerify/.test(e.message) && /sessions/.test(e.message));
    assert.ok(eg.Gate.create(config, { customVerify: () => null }));
  });

  it('revocation without store.isRevoked', () => {
    const config = { providers: [{ type: 'jwt', name: 'm', issuer: 'https://i.example', secret: 'x'.repeat(32) }], revocation: { enabled: true }, routes: [{ path: '/**' }] };
    for (const store of [undefined, {}, { apiKey: () => null }, { isRevoked: true }]) {
      assert.throws(() => eg.Gate.create(config, { store }), (e) => e.code === 'AUTH-015' && e.reason === 'options.store.isRevoked', JSON.stringify(store));
    }
    assert.ok(eg.Gate.create(config, { store: { isRevoked: () => false } }));
    // Disabled gate: nothing is needed.
    assert.ok(eg.Gate.create({ ...config, enabled: false }));
  });
});
