// Issue 7, findings 1 and 2: many concurrent decisions through ONE Gate, mixing a custom
// provider, introspection (a local server), API keys and revocation (an async store) and
// unknown-kid tokens (a local JWKS server), with answers arriving in every order (same tick,
// reversed, interleaved, random). Each decision must equal the one the same request gets
// alone.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, it } from 'node:test';
import * as jose from 'jose';
import { importEdgegate } from './helpers/scratch.mjs';

const eg = await importEdgegate();
const SECRET = 'sec-concurrency-secret-of-32-bytes-or-more';
const env = { JWT_SECRET: SECRET, INTRO_SECRET: 'intro-client-secret' };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Per round: how long the answer for request `i` takes. */
let delayOf = () => Promise.resolve();

let jwksServer;
let introServer;
let k1;
let k2;
const introDelay = new Map();

function listen(server) {
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server.address().port)));
}

before(async () => {
  k1 = await jose.generateKeyPair('ES256', { extractable: true });
  k2 = await jose.generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await jose.exportJWK(k1.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  jwksServer = createServer((req, res) => {
    setTimeout(() => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: [jwk] }));
    }, 5);
  });
  introServer = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const token = new URLSearchParams(body).get('token') ?? '';
      const [, i, kind] = token.split('-');
      const answer = kind === 'good' ? { active: true, sub: `intro-${i}`, aud: 'api', iss: 'https://idp.example' } : { active: false };
      const ms = introDelay.get(token) ?? 0;
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer));
      }, ms);
    });
  });
  const [jp, ip] = await Promise.all([listen(jwksServer), listen(introServer)]);
  jwksServer.url = `http://127.0.0.1:${jp}/jwks`;
  introServer.url = `http://127.0.0.1:${ip}/introspect`;
});

after(() => {
  for (const s of [jwksServer, introServer]) {
    s?.closeAllConnections();
    s?.close();
  }
});

function config() {
  return {
    providers: [
      { type: 'jwt', name: 'main', issuer: 'https://issuer.example', audience: 'api', secret: { env: 'JWT_SECRET' } },
      { type: 'custom', name: 'sessions', issuer: 'https://sessions.example' },
      {
        type: 'oidc',
        name: 'idp',
        issuer: 'https://idp.example',
        audience: 'api',
        jwksUrl: jwksServer.url,
        introspection: { url: introServer.url, clientId: 'gw', clientSecret: { env: 'INTRO_SECRET' } },
      },
    ],
    apiKeys: { enabled: true },
    revocation: { enabled: true },
    rbac: { roles: { admin: { permissions: ['admin:*'] } } },
    // Every provider and API keys (least privilege: keys only where a route names them).
    routes: [{ path: '/admin/**', roles: ['admin'], providers: ['main', 'sessions', 'idp', 'apiKey'] }, { path: '/api/**', providers: ['main', 'sessions', 'idp', 'apiKey'] }],
  };
}

/** Who answers what, and after which delay (looked up by credential -> request index). */
function makeGate(records, revoked, index) {
  return eg.Gate.create(config(), {
    env,
    store: {
      async apiKey(id) {
        await delayOf(index.get(id));
        return records.get(id) ?? null;
      },
      async isRevoked(id) {
        await delayOf(index.get(id));
        // Redis-style answers for half of them: 0 / 1.
        const r = revoked.has(id);
        return id.endsWith('-r') ? (r ? 1 : 0) : r;
      },
    },
    async customVerify(provider, token) {
      await delayOf(index.get(token));
      const { user } = jose.decodeJwt(token);
      return typeof user === 'string' && user.startsWith('admin') ? { sub: user, roles: ['admin'] } : null;
    },
  });
}

async function buildRequests(n) {
  const records = new Map();
  const revoked = new Set();
  const index = new Map();
  const reqs = [];
  const now = Math.floor(Date.now() / 1000);
  const es = (key, kid, claims) =>
    new jose.SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid }).setIssuer('https://idp.example').setAudience('api').setExpirationTime('10m').sign(key.privateKey);
  const hs = (claims) =>
    new jose.SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuer('https://issuer.example').setAudience('api').setExpirationTime('10m').sign(new TextEncoder().encode(SECRET));
  const session = (user) =>
    new jose.SignJWT({ user }).setProtectedHeader({ alg: 'HS256' }).setIssuer('https://sessions.example').sign(new TextEncoder().encode('not-checked-by-the-gate'));
  for (let i = 0; i < n; i++) {
    let cred;
    let path = '/api/x';
    switch (i % 9) {
      case 0:
        cred = await session(`admin-${i}`);
        path = '/admin/x';
        break;
      case 1:
        cred = await session(`junk-${i}`);
        path = '/admin/x';
        break;
      case 2:
        cred = `opaque-${i}-good`;
        break;
      case 3:
        cred = `opaque-${i}-junk`;
        break;
      case 4:
      case 5: {
        const c = eg.createApiKey({ account: `acct-${i}`, name: `k${i}`, roles: i % 9 === 4 ? ['admin'] : [], expiresAt: now + 3600 });
        records.set(c.record.id, i % 9 === 5 ? { ...c.record, revoked: true } : c.record);
        index.set(c.record.id, i);
        cred = c.key;
        if (i % 9 === 4) path = '/admin/x';
        break;
      }
      case 6:
        cred = await hs({ sub: `user-${i}`, jti: `jti-${i}${i % 2 ? '-r' : ''}` });
        index.set(`jti-${i}${i % 2 ? '-r' : ''}`, i);
        break;
      case 7: {
        const jti = `jti-${i}${i % 2 ? '-r' : ''}`;
        cred = await hs({ sub: `user-${i}`, jti });
        revoked.add(jti);
        index.set(jti, i);
        break;
      }
      default:
        // Unknown kid (never published), and a known one.
        cred = i % 2 ? await es(k2, `unknown-${i}`, { sub: `svc-${i}` }) : await es(k1, 'k1', { sub: `svc-${i}` });
    }
    index.set(cred, i);
    introDelay.set(cred, 0);
    reqs.push({ method: 'GET', path, headers: { authorization: `Bearer ${cred}` } });
  }
  return { reqs, records, revoked, index };
}

function lcg(seed) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const N = 45;

describe('concurrent decisions through one Gate (issue 7 findings 1, 2)', () => {
  it('each decision equals the one the same request gets alone, in every answer order', async () => {
    const { reqs, records, revoked, index } = await buildRequests(N);
    // Alone: one at a time, no delays, on its own gate.
    delayOf = () => Promise.resolve();
    const aloneGate = makeGate(records, revoked, index);
    const alone = [];
    for (const r of reqs) alone.push(await aloneGate.decide(r));
    // The mix is meaningful: admins allowed with their own identity, junk refused.
    assert.equal(alone[0].allow, true, JSON.stringify(alone[0]));
    assert.equal(alone[0].identity.sub, 'admin-0');
    assert.equal(alone[1].code, 'AUTH-001');
    assert.equal(alone[2].allow, true, JSON.stringify(alone[2]));
    assert.equal(alone[2].identity.sub, 'intro-2');
    assert.equal(alone[3].code, 'AUTH-001');
    assert.equal(alone[4].allow, true, JSON.stringify(alone[4]));
    assert.equal(alone[5].code, 'AUTH-003');
    assert.equal(alone[6].allow, true, JSON.stringify(alone[6]));
    assert.equal(alone[7].code, 'AUTH-010');
    assert.equal(alone[17].code, 'AUTH-001'); // unknown kid
    assert.equal(alone[8].allow, true, JSON.stringify(alone[8])); // known kid

    const orders = {
      'same tick': () => {
        let release;
        const tick = new Promise((r) => (release = r));
        setTimeout(release, 15);
        return () => tick;
      },
      reversed: () => (i) => sleep((N - i) * 2),
      interleaved: () => (i) => sleep(i % 2 ? 20 : 0),
      'random 1': () => {
        const rnd = lcg(1);
        return () => sleep(Math.floor(rnd() * 25));
      },
      'random 2': () => {
        const rnd = lcg(7);
        return () => sleep(Math.floor(rnd() * 25));
      },
      immediate: () => () => Promise.resolve(),
    };
    const failures = [];
    for (const [name, make] of Object.entries(orders)) {
      delayOf = make();
      // Introspection answers in the same order as the others.
      for (const r of reqs) {
        const cred = r.headers.authorization.slice(7);
        const i = index.get(cred);
        introDelay.set(cred, name === 'reversed' ? (N - i) * 2 : name === 'interleaved' ? (i % 2 ? 20 : 0) : name.startsWith('random') ? (i * 7) % 25 : 5);
      }
      // A fresh gate per order (cold key cache: concurrent JWKS fetches too), then the
      // same gate again warm.
      const gate = makeGate(records, revoked, index);
      for (const pass of ['cold', 'warm']) {
        const got = await Promise.allSettled(reqs.map((r) => gate.decide(r)));
        got.forEach((g, i) => {
          if (g.status === 'rejected') failures.push(`${name}/${pass} #${i}: threw ${g.reason?.message}`);
          else {
            try {
              assert.deepEqual(g.value, alone[i]);
            } catch {
              failures.push(`${name}/${pass} #${i}: ${JSON.stringify([g.value.allow, g.value.code, g.value.identity?.sub])} != ${JSON.stringify([alone[i].allow, alone[i].code, alone[i].identity?.sub])}`);
            }
          }
        });
      }
    }
    assert.deepEqual(failures, [], `${failures.length} decisions differ:\n${failures.slice(0, 20).join('\n')}`);
  });
});
