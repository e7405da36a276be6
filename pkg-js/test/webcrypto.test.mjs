// The WebCrypto backend (what browsers and workerd use), exercised in Node: the package's
// own ESM modules wired to the web wasm glue and WebCrypto, as the web/workerd entries do.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { before, describe, it } from 'node:test';
import * as jose from 'jose';
import { packageDir } from './helpers/scratch.mjs';

const url = (p) => pathToFileURL(join(packageDir, 'pkg-js/dist', p)).href;
const glue = await import(url('wasm/web/edgegate.js'));
glue.initSync({ module: new WebAssembly.Module(readFileSync(join(packageDir, 'pkg-js/dist/wasm/web/edgegate_bg.wasm'))) });
const api = await import(url('esm/api.js'));
const { webHost } = await import(url('esm/host.js'));
const errors = await import(url('esm/errors.js'));
api.setup(glue, webHost);

const ASYM = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];
const keys = {};
before(async () => {
  for (const alg of ASYM) {
    const { publicKey, privateKey } = await jose.generateKeyPair(alg, { extractable: true });
    keys[alg] = { privateKey, publicKey, jwk: { ...(await jose.exportJWK(publicKey)), kid: alg, alg, use: 'sig' } };
  }
});

async function code(p) {
  try {
    await p;
    return 'ok';
  } catch (e) {
    assert.ok(e instanceof errors.AuthError, String(e && e.stack));
    return e.code;
  }
}

describe('WebCrypto backend', () => {
  for (const alg of ASYM) {
    it(`${alg}: jose token verifies; tampered fails; same answer as the wasm backend`, async () => {
      const token = await new jose.SignJWT({ sub: 'w' }).setProtectedHeader({ alg, kid: alg }).setIssuedAt().setExpirationTime('5m').sign(keys[alg].privateKey);
      const JWKS = api.createLocalJWKSet({ keys: [keys[alg].jwk] });
      const { payload } = await api.jwtVerify(token, JWKS, { algorithms: [alg] });
      assert.equal(payload.sub, 'w');
      const [h, p, s] = token.split('.');
      const sig = Buffer.from(s, 'base64url');
      sig[0] ^= 1;
      const bad = `${h}.${p}.${sig.toString('base64url')}`;
      assert.equal(await code(api.jwtVerify(bad, JWKS)), 'AUTH-004');
      assert.equal(await code(api.jwtVerify(bad, JWKS, { backend: 'wasm' })), 'AUTH-004');
      // Expired + bad signature: the signature error wins (as in jose).
      const old = await new jose.SignJWT({}).setProtectedHeader({ alg, kid: alg }).setExpirationTime(1).sign(keys[alg].privateKey);
      assert.equal(await code(api.jwtVerify(old, JWKS)), 'AUTH-002');
      const [oh, op, os] = old.split('.');
      const osig = Buffer.from(os, 'base64url');
      osig[osig.length - 1] ^= 0x80;
      assert.equal(await code(api.jwtVerify(`${oh}.${op}.${osig.toString('base64url')}`, JWKS)), 'AUTH-004');
    });
  }

  it('a CryptoKey (extractable) is accepted as a key', async () => {
    const token = await new jose.SignJWT({ sub: 'c' }).setProtectedHeader({ alg: 'ES256' }).sign(keys.ES256.privateKey);
    const { payload } = await api.jwtVerify(token, keys.ES256.publicKey);
    assert.equal(payload.sub, 'c');
  });

  it('a jose-style key function is accepted', async () => {
    const token = await new jose.SignJWT({ sub: 'f' }).setProtectedHeader({ alg: 'RS256', kid: 'RS256' }).sign(keys.RS256.privateKey);
    const seen = [];
    const { payload } = await api.jwtVerify(token, async (header) => {
      seen.push(header.kid);
      return keys.RS256.jwk;
    });
    assert.equal(payload.sub, 'f');
    assert.deepEqual(seen, ['RS256']);
  });
});
