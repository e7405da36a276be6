// Issue 7 finding 7 / issue 8 item 1: a bad clock is an error (AUTH-015), never 1970.
// jwtVerify with an invalid currentDate, and a Gate whose now() returns NaN / undefined /
// Infinity / null / a string, never accept an expired token or API key.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as jose from 'jose';
import { importEdgegate } from './helpers/scratch.mjs';

const eg = await importEdgegate();
const SECRET = new TextEncoder().encode('sec-time-test-secret-of-32-bytes-or-more!');
const NOW = Math.floor(Date.now() / 1000);

const expired = () =>
  new jose.SignJWT({ sub: 'u1' }).setProtectedHeader({ alg: 'HS256' }).setIssuer('https://issuer.example').setAudience('api').setIssuedAt(NOW - 7200).setExpirationTime(NOW - 3600).sign(SECRET);

const BAD_DATES = [new Date('x'), new Date(NaN), new Date(-1000), new Date(8.64e15)];
const BAD_NOWS = [() => NaN, () => undefined, () => Infinity, () => -Infinity, () => null, () => 'soon', () => -5000, () => 1e20];

function isTimeError(e) {
  return eg.isAuthError(e) && e.code === 'AUTH-015' && /invalid time/.test(e.message);
}

describe('jwtVerify: an invalid currentDate is an error', () => {
  it('refuses an expired token at an invalid currentDate (both backends, with and without cache)', async () => {
    const token = await expired();
    // Sanity: expired at the real time.
    await assert.rejects(eg.jwtVerify(token, SECRET), (e) => e.code === 'AUTH-002');
    for (const currentDate of BAD_DATES) {
      for (const extra of [{}, { backend: 'wasm' }, { cache: { max: 4 } }]) {
        await assert.rejects(eg.jwtVerify(token, SECRET, { currentDate, ...extra }), isTimeError, `${currentDate} ${JSON.stringify(extra)}`);
      }
    }
  });

  it('an invalid currentDate also fails for a valid token (RSA, native check) and for a cached token', async () => {
    const { publicKey, privateKey } = await jose.generateKeyPair('RS256');
    const token = await new jose.SignJWT({ sub: 'u1' }).setProtectedHeader({ alg: 'RS256' }).setExpirationTime(NOW + 600).sign(privateKey);
    const opts = { cache: { max: 4 } };
    assert.equal((await eg.jwtVerify(token, publicKey, opts)).payload.sub, 'u1');
    // Now cached: a hit must still refuse the unusable time.
    await assert.rejects(eg.jwtVerify(token, publicKey, { ...opts, currentDate: new Date('x') }), isTimeError);
    await assert.rejects(eg.jwtVerify(token, publicKey, { currentDate: new Date('x') }), isTimeError);
    await assert.rejects(eg.jwtVerify(token, publicKey, { currentDate: 'yesterday' }), isTimeError);
  });

  it('inspectToken refuses an invalid currentDate too', async () => {
    const token = await expired();
    assert.throws(() => eg.inspectToken(token, { currentDate: new Date('x') }), isTimeError);
  });
});

describe('Gate: a bad now() is refused by the core', () => {
  const config = {
    providers: [{ type: 'jwt', name: 'main', issuer: 'https://issuer.example', audience: 'api', secret: { env: 'JWT_SECRET' } }],
    apiKeys: { enabled: true },
    routes: [{ path: '/api/**', providers: ['main', 'apiKey'] }],
  };
  const env = { JWT_SECRET: new TextDecoder().decode(SECRET) };

  it('never allows an expired token', async () => {
    const token = await expired();
    const req = { method: 'GET', path: '/api/x', headers: { authorization: `Bearer ${token}` } };
    const good = eg.Gate.create(config, { env });
    assert.equal((await good.decide(req)).code, 'AUTH-002');
    for (const now of BAD_NOWS) {
      const gate = eg.Gate.create(config, { env, now });
      let d;
      try {
        d = await gate.decide(req);
      } catch (e) {
        assert.ok(isTimeError(e), `${now}: ${e && e.message}`);
        continue;
      }
      assert.equal(d.allow, false, `${now} allowed an expired token`);
    }
  });

  it('never allows an expired API key', async () => {
    const realNow = Date.now();
    const created = eg.createApiKey({ account: 'acct', permissions: [], expiresAt: Math.floor(realNow / 1000) + 60 }, { now: realNow });
    const records = new Map([[created.record.id, { ...created.record, createdAt: NOW - 7200, expiresAt: NOW - 3600 }]]);
    const store = { apiKey: (id) => records.get(id) ?? null };
    const req = { method: 'GET', path: '/api/x', headers: { authorization: `Bearer ${created.key}` } };
    assert.equal((await eg.Gate.create(config, { env, store }).decide(req)).code, 'AUTH-003');
    for (const now of BAD_NOWS) {
      const gate = eg.Gate.create(config, { env, store, now });
      let d;
      try {
        d = await gate.decide(req);
      } catch (e) {
        assert.ok(isTimeError(e), `${now}: ${e && e.message}`);
        continue;
      }
      assert.equal(d.allow, false, `${now} allowed an expired API key`);
    }
  });

  it('createApiKey refuses an unusable now', () => {
    for (const now of [NaN, Infinity, -1, 1e20]) {
      assert.throws(() => eg.createApiKey({ account: 'a', expiresAt: NOW + 60 }, { now }), isTimeError, String(now));
    }
  });
});
