/** node:crypto signature checks: synchronous `crypto.verify` with cached `KeyObject`s. */
import { Buffer } from 'node:buffer';
import { constants, createPublicKey, verify as nodeVerify, type KeyObject, type VerifyKeyObjectInput } from 'node:crypto';
import type { AsymAlg, HostCrypto } from './host.js';

const DIGEST: Record<AsymAlg, string | null> = {
  RS256: 'sha256', RS384: 'sha384', RS512: 'sha512',
  PS256: 'sha256', PS384: 'sha384', PS512: 'sha512',
  ES256: 'sha256', ES384: 'sha384', ES512: 'sha512',
  EdDSA: null,
};

export const nodeHost: HostCrypto = {
  name: 'node',
  importKey(jwk, alg) {
    const key: KeyObject = createPublicKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' });
    if (alg[0] === 'P') {
      return { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST } satisfies VerifyKeyObjectInput;
    }
    if (alg[0] === 'E' && alg !== 'EdDSA') return { key, dsaEncoding: 'ieee-p1363' } satisfies VerifyKeyObjectInput;
    return key;
  },
  verify(alg, key, signingInput, signature) {
    try {
      return nodeVerify(DIGEST[alg], Buffer.from(signingInput, 'latin1'), key as KeyObject, Buffer.from(signature, 'base64url'));
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
