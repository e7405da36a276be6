/**
 * node:crypto signature checks: synchronous `crypto.verify` with cached `KeyObject`s.
 * `node:crypto` is loaded on the first key import, not at `import('edgegate')`: loading it
 * costs ~3 ms of CPU, a large share of the cold import, and HMAC-only users never need it.
 */
import { Buffer } from 'node:buffer';
import { createRequire } from 'node:module';
import type { KeyObject, VerifyKeyObjectInput } from 'node:crypto';
import type { AsymAlg, HostCrypto } from './host.js';

type NodeCrypto = typeof import('node:crypto');
let CRYPTO: NodeCrypto | undefined;

/** `node:crypto`, synchronously (`process.getBuiltinModule` where Node has it, Node >= 20.16). */
function nodeCrypto(): NodeCrypto {
  if (!CRYPTO) {
    const p = process as { getBuiltinModule?: (id: string) => unknown };
    // Any absolute path does for `createRequire` when only resolving a builtin.
    CRYPTO = (p.getBuiltinModule?.('node:crypto') ?? createRequire(process.execPath)('node:crypto')) as NodeCrypto;
  }
  return CRYPTO;
}

const DIGEST: Record<AsymAlg, string | null> = {
  RS256: 'sha256', RS384: 'sha384', RS512: 'sha512',
  PS256: 'sha256', PS384: 'sha384', PS512: 'sha512',
  ES256: 'sha256', ES384: 'sha384', ES512: 'sha512',
  EdDSA: null,
};

export const nodeHost: HostCrypto = {
  name: 'node',
  importKey(jwk, alg) {
    const { constants, createPublicKey } = nodeCrypto();
    const key: KeyObject = createPublicKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' });
    if (alg[0] === 'P') {
      return { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST } satisfies VerifyKeyObjectInput;
    }
    if (alg[0] === 'E' && alg !== 'EdDSA') return { key, dsaEncoding: 'ieee-p1363' } satisfies VerifyKeyObjectInput;
    return key;
  },
  verify(alg, key, signingInput, signature) {
    try {
      // A key was imported first (importKey), so `CRYPTO` is set; nodeCrypto() keeps it simple.
      return nodeCrypto().verify(DIGEST[alg], Buffer.from(signingInput, 'latin1'), key as KeyObject, Buffer.from(signature, 'base64url'));
    } catch {
      return false;
    }
  },
  decodeText(s) {
    return Buffer.from(s, 'base64url').toString('utf8');
  },
  decodeBytes(s) {
    const b = Buffer.from(s, 'base64url');
    return new Uint8Array(b.buffer, b.byteOffset, b.length);
  },
};
