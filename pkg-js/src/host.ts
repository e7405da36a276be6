/** Native signature checks (node:crypto, WebCrypto): the only thing a host backend does. */

/** The algorithms a host backend checks (HMAC stays in wasm). */
export type AsymAlg = 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512' | 'EdDSA';

/** Indexes match the core's `Algorithm::ALL` (generated from src/abi.rs). */
export { ALGS } from './abi.generated.js';

/** @internal A native crypto adapter. */
export interface HostCrypto {
  readonly name: string;
  /** Imports a public JWK for one algorithm; the result is cached by the caller. */
  importKey(jwk: JsonWebKeyLike, alg: AsymAlg): unknown;
  /** Checks a signature; `signingInput` is the ASCII text before the last `.`. */
  verify(alg: AsymAlg, key: unknown, signingInput: string, signature: string): boolean | Promise<boolean>;
  /** base64url text -> UTF-8 text. */
  decodeText(b64url: string): string;
  /** base64url text -> bytes. */
  decodeBytes(b64url: string): Uint8Array;
}

/** @internal */
export interface JsonWebKeyLike {
  kty: string;
  [k: string]: unknown;
}

const TABLE = (() => {
  const t = new Int16Array(128).fill(-1);
  const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  for (let i = 0; i < abc.length; i++) t[abc.charCodeAt(i)] = i;
  return t;
})();

/** @internal base64url decode of text the core already validated as strict base64url. */
export function b64urlToBytes(s: string): Uint8Array {
  const n = s.length;
  const out = new Uint8Array(Math.floor((n * 3) / 4));
  let o = 0;
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < n; i++) {
    const v = TABLE[s.charCodeAt(i) & 127];
    acc = (acc << 6) | (v < 0 ? 0 : v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  return o === out.length ? out : out.subarray(0, o);
}

const ASCII = new TextEncoder();
const UTF8 = new TextDecoder();

const HASH: Record<AsymAlg, string> = {
  RS256: 'SHA-256', RS384: 'SHA-384', RS512: 'SHA-512',
  PS256: 'SHA-256', PS384: 'SHA-384', PS512: 'SHA-512',
  ES256: 'SHA-256', ES384: 'SHA-384', ES512: 'SHA-512',
  EdDSA: '',
};

interface WebKey {
  key: CryptoKey;
  params: AlgorithmIdentifier | RsaPssParams | EcdsaParams;
}

/** WebCrypto (browsers, workerd, Deno, Node's globalThis.crypto). */
export const webHost: HostCrypto = {
  name: 'webcrypto',
  async importKey(jwk, alg) {
    const subtle = globalThis.crypto.subtle;
    const hash = HASH[alg];
    let imp: RsaHashedImportParams | EcKeyImportParams | AlgorithmIdentifier;
    let params: WebKey['params'];
    if (alg.startsWith('RS')) {
      imp = { name: 'RSASSA-PKCS1-v1_5', hash };
      params = { name: 'RSASSA-PKCS1-v1_5' };
    } else if (alg.startsWith('PS')) {
      imp = { name: 'RSA-PSS', hash };
      params = { name: 'RSA-PSS', saltLength: parseInt(alg.slice(2), 10) >> 3 } as RsaPssParams;
    } else if (alg.startsWith('ES')) {
      imp = { name: 'ECDSA', namedCurve: String(jwk.crv) };
      params = { name: 'ECDSA', hash } as EcdsaParams;
    } else {
      imp = { name: 'Ed25519' };
      params = { name: 'Ed25519' };
    }
    const key = await subtle.importKey('jwk', jwk as JsonWebKey, imp, false, ['verify']);
    return { key, params } satisfies WebKey;
  },
  async verify(_alg, key, signingInput, signature) {
    const k = (await key) as WebKey;
    try {
      return await globalThis.crypto.subtle.verify(k.params, k.key, b64urlToBytes(signature) as BufferSource, ASCII.encode(signingInput) as BufferSource);
    } catch {
      return false;
    }
  },
  decodeText(s) {
    return UTF8.decode(b64urlToBytes(s));
  },
  decodeBytes: b64urlToBytes,
};
