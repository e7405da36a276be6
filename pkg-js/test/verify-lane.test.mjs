// Node's fast lane into the core's verify (pkg-js/src/lane-node.ts, the wasm VerifyLane):
// the token written into wasm memory by Buffer#utf8Write, the result read in place. It must
// answer exactly as the copying path: non-ASCII and lone surrogates, tokens longer than any
// before (the input area grows), tokens past the lane's limit (the copying path), wasm
// memory growing between calls (views re-made), failures between passes (the shared
// passing answer never carries over), and many verifications in flight at once.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import * as jose from 'jose';
import { importEdgegate } from './helpers/scratch.mjs';

const eg = await importEdgegate();
const NOW = Math.floor(Date.now() / 1000);
const secret = new TextEncoder().encode('lane-secret-0123456789abcdef-0123456789');
const other = new TextEncoder().encode('lane-secret-0123456789abcdef-0123456780');
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ecJwk = { ...ec.publicKey.export({ format: 'jwk' }), alg: 'ES256' };

const hs = (claims = {}, key = secret) =>
  new jose.SignJWT({ sub: 'u1', exp: NOW + 600, ...claims }).setProtectedHeader({ alg: 'HS256' }).sign(key);
const es = (claims = {}) =>
  new jose.SignJWT({ sub: 'e1', exp: NOW + 600, ...claims }).setProtectedHeader({ alg: 'ES256' }).sign(ec.privateKey);

async function outcome(p) {
  try {
    const r = await p;
    return `ok ${r.payload.sub}`;
  } catch (e) {
    return `${e.code} ${e.message}`;
  }
}

describe('the Node verify lane', () => {
  it('non-ASCII anywhere in a token: refused with the same error as a wrong ASCII character there', async () => {
    const t = await hs();
    const [h, p, s] = t.split('.');
    assert.equal(await outcome(eg.jwtVerify(t, secret)), 'ok u1');
    for (const [bad, ascii] of [
      [`${h}é.${p}.${s}`, `${h}!.${p}.${s}`],
      [`${h}.${p}\u{1F600}.${s}`, `${h}.${p}!.${s}`],
      [`${h}.${p}.${s}\ud800`, `${h}.${p}.${s}!`],
      [`${h}.${p}.${s.slice(0, -1)}é`, `${h}.${p}.${s.slice(0, -1)}!`],
    ]) {
      const got = await outcome(eg.jwtVerify(bad, secret));
      assert.match(got, /^AUTH-006 /, got);
      assert.equal(got, await outcome(eg.jwtVerify(ascii, secret)));
    }
    // A valid token right after: passes (nothing of the refused input is left over).
    assert.equal(await outcome(eg.jwtVerify(t, secret)), 'ok u1');
  });

  it('a longer token than any before, then short ones; past the lane limit, the copying path', async () => {
    const small = await hs();
    const big = await hs({ pad: 'x'.repeat(12_000) }); // under the 16 KiB token budget
    assert.equal(await outcome(eg.jwtVerify(small, secret)), 'ok u1');
    assert.equal(await outcome(eg.jwtVerify(big, secret)), 'ok u1');
    assert.equal(await outcome(eg.jwtVerify(small, secret)), 'ok u1');
    // Over the budget, both sides of the lane's 65,536-character limit: the same refusal.
    for (const n of [20_000, 65_536, 65_537, 200_000]) {
      const got = await outcome(eg.jwtVerify(`${small}${'A'.repeat(n - small.length)}`, secret));
      assert.equal(got, `AUTH-006 token is ${n} bytes, over the 16384-byte limit`);
    }
    // A token whose UTF-8 is 3x its length, larger than the area reserved so far.
    const wide = '\u4e00'.repeat(30_000);
    assert.equal(await outcome(eg.jwtVerify(wide, secret)), 'AUTH-006 token is 90000 bytes, over the 16384-byte limit');
    assert.equal(await outcome(eg.jwtVerify(small, secret)), 'ok u1');
  });

  it('wasm memory grows between verifications: answers stay right', async () => {
    const t = await hs();
    const bad = await hs({}, other);
    assert.equal(await outcome(eg.jwtVerify(t, secret)), 'ok u1');
    // Large key sets imported into wasm memory grow it (and detach old views of it).
    const sets = [];
    // (64 keys per set at most; 300 sets hold ~19,000 keys, megabytes of wasm memory.)
    for (let i = 0; i < 300; i++) {
      const keys = Array.from({ length: 64 }, (_, j) => ({ kty: 'oct', k: Buffer.alloc(64, (i * 64 + j) % 251).toString('base64url'), kid: `k${i}-${j}`, alg: 'HS256' }));
      const set = eg.createLocalJWKSet({ keys });
      sets.push(set);
      // A set's keys are imported on first use.
      assert.match(await outcome(eg.jwtVerify(t, set)), /^AUTH-00[0-9] /);
      if (i % 50 === 49) {
        assert.equal(await outcome(eg.jwtVerify(t, secret)), 'ok u1');
        assert.match(await outcome(eg.jwtVerify(bad, secret)), /^AUTH-004 /);
      }
    }
    assert.equal(sets.length, 300);
  });

  it('a failure between passes: each answer is its own', async () => {
    const good = await hs();
    const expired = await hs({ exp: NOW - 600 });
    const wrong = await hs({}, other);
    const seq = [good, expired, good, wrong, good, 'not.a.token', good];
    const got = [];
    for (const t of seq) got.push((await outcome(eg.jwtVerify(t, secret))).split(' ')[0]);
    assert.deepEqual(got, ['ok', 'AUTH-002', 'ok', 'AUTH-004', 'ok', 'AUTH-006', 'ok']);
  });

  it('many verifications in flight, HMAC and ES256 (host check) interleaved: every answer matches its token', async () => {
    const cases = [];
    for (let i = 0; i < 60; i++) {
      const kind = i % 4;
      if (kind === 0) cases.push([await hs({ sub: `h${i}` }), secret, `ok h${i}`]);
      if (kind === 1) cases.push([await es({ sub: `e${i}` }), ecJwk, `ok e${i}`]);
      if (kind === 2) cases.push([await hs({ sub: `x${i}` }, other), secret, 'AUTH-004']);
      if (kind === 3) cases.push([await es({ sub: `x${i}`, exp: NOW - 600 }), ecJwk, 'AUTH-002']);
    }
    const got = await Promise.all(cases.map(([t, k]) => outcome(eg.jwtVerify(t, k))));
    got.forEach((g, i) => assert.ok(g.startsWith(cases[i][2]), `${i}: ${g} (want ${cases[i][2]})`));
  });
});
