// Benchmark findings (issue 11, docs/benchmarks.md "The Worker in workerd"): the JS Gate
// checked every RSA/ECDSA/EdDSA signature with the pure-Rust backend in wasm, about a
// millisecond for RSA-2048, on every request, even for a token it had checked a moment
// before (~75% of the JS edgegate Worker's CPU in workerd; 0.22x the jose Worker).
// Now (1) the gate remembers verdicts (keyed by SHA-256 over algorithm, key, signing input and
// signature): a repeated token costs no signature check; (2) a token's first check goes to
// the runtime's crypto (node:crypto here, WebCrypto in workerd), as `jwtVerify` already did.
// Measured as ratios within this process, so a loaded machine does not matter. And a
// remembered verdict never outlives its rules: an expired or tampered token is still refused.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, it } from 'node:test';
import * as jose from 'jose';
import { importEdgegate } from './helpers/scratch.mjs';

const eg = await importEdgegate();
let server;
let gate;
let rs;

const listen = (s) => new Promise((r) => s.listen(0, '127.0.0.1', () => r(s.address().port)));

async function sign(extra = {}, exp = 3600) {
  const now = Math.floor(Date.now() / 1000);
  return new jose.SignJWT({ sub: 'u1', roles: ['admin'], ...extra })
    .setProtectedHeader({ alg: 'RS256', kid: 'rs' })
    .setIssuer('https://idp.test')
    .setAudience('api')
    .setIssuedAt(now)
    .setExpirationTime(now + exp)
    .sign(rs.privateKey);
}

before(async () => {
  rs = await jose.generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await jose.exportJWK(rs.publicKey)), kid: 'rs', alg: 'RS256', use: 'sig' };
  server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=3600' });
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  const port = await listen(server);
  gate = eg.Gate.create({
    providers: [{ type: 'jwt', name: 'idp', issuer: 'https://idp.test', audience: 'api', jwksUrl: `http://127.0.0.1:${port}/jwks.json`, algorithms: ['RS256'], rolesClaim: 'roles' }],
    routes: [{ name: 'api', path: '/api/**', roles: ['admin'] }],
  }, { env: {} });
});

after(() => {
  server.closeAllConnections?.();
  server.close();
});

const decide = (token) => gate.decide({ method: 'GET', path: '/api/x', headers: { authorization: `Bearer ${token}` } });

async function perDecision(tokens) {
  const t0 = performance.now();
  for (const t of tokens) {
    const d = await decide(t);
    assert.equal(d.allow, true, JSON.stringify(d));
  }
  return (performance.now() - t0) / tokens.length;
}

it('a repeated RS256 token is checked once, not on every decision', async () => {
  const one = await sign();
  await decide(one); // keys fetched, first check
  // Interleaved rounds, best of each: scheduling noise only ever adds time.
  let fresh = Infinity;
  let repeated = Infinity;
  for (let round = 0; round < 3; round++) {
    const batch = await Promise.all(Array.from({ length: 40 }, (_, i) => sign({ n: `${round}-${i}` })));
    fresh = Math.min(fresh, await perDecision(batch));
    repeated = Math.min(repeated, await perDecision(Array(200).fill(one)));
  }
  assert.ok(repeated < fresh * 0.8, `repeated token ${repeated.toFixed(3)} ms per decision, distinct tokens ${fresh.toFixed(3)} ms`);
});

it("a token's first RS256 check is the runtime's crypto, not pure Rust in wasm", async () => {
  const jwk = await jose.exportJWK(rs.publicKey);
  const opts = { issuer: 'https://idp.test', audience: 'api', algorithms: ['RS256'] };
  let gateFresh = Infinity;
  let pureVerify = Infinity;
  for (let round = 0; round < 3; round++) {
    const batch = await Promise.all(Array.from({ length: 30 }, (_, i) => sign({ first: `${round}-${i}` })));
    gateFresh = Math.min(gateFresh, await perDecision(batch));
    // The same kind of check by the package's pure backend (`backend: 'wasm'`), per token.
    const t0 = performance.now();
    for (const t of batch) await eg.jwtVerify(t, jwk, { ...opts, backend: 'wasm' });
    pureVerify = Math.min(pureVerify, (performance.now() - t0) / batch.length);
  }
  assert.ok(gateFresh < pureVerify / 2, `a whole decision on a new token ${gateFresh.toFixed(3)} ms, one pure-wasm RS256 check ${pureVerify.toFixed(3)} ms`);
});

it('a remembered verdict does not keep an expired or tampered token alive', async () => {
  const expired = await sign({}, -120);
  const d1 = await decide(expired);
  assert.equal(d1.allow, false);
  const d2 = await decide(expired);
  assert.equal(d2.allow, false);
  assert.equal(d2.code, d1.code);
  const good = await sign({ k: 'tamper' });
  assert.equal((await decide(good)).allow, true);
  const [h, p, s] = good.split('.');
  const forged = [h, Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url')), roles: ['admin', 'root'] })).toString('base64url'), s].join('.');
  for (let i = 0; i < 2; i++) {
    const d = await decide(forged);
    assert.equal(d.allow, false);
    assert.equal(d.status, 401);
  }
  const sig = Buffer.from(s, 'base64url');
  sig[10] ^= 1;
  const badSig = [h, p, sig.toString('base64url')].join('.');
  for (let i = 0; i < 2; i++) assert.equal((await decide(badSig)).allow, false);
  assert.equal((await decide(good)).allow, true);
});
