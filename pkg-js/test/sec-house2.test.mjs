// Issue 8 (house, part 2): the rules the package used to keep for itself now come from the
// core: duration options are judged by the core's Duration (via the binding).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { importEdgegate } from './helpers/scratch.mjs';

const eg = await importEdgegate();

describe('createRemoteJWKSet duration options: the core decides', () => {
  const URL_ = 'https://idp.example/jwks.json';
  for (const field of ['cacheMaxAge', 'cooldownDuration', 'timeoutDuration', 'maxStale', 'retryAfterError']) {
    it(`${field}: NaN, -Infinity, a negative number or a string is AUTH-015 with the core's text`, () => {
      for (const bad of [NaN, -Infinity, -1, '5s', null]) {
        assert.throws(
          () => eg.createRemoteJWKSet(URL_, { [field]: bad }),
          (e) => eg.isAuthError(e) && e.code === 'AUTH-015' && e.message.includes(`options.${field}`) && /invalid time/.test(e.message),
          `${field}=${String(bad)}`,
        );
      }
    });
    it(`${field}: Infinity means forever, a number is accepted`, () => {
      assert.equal(typeof eg.createRemoteJWKSet(URL_, { [field]: Infinity }), 'function');
      assert.equal(typeof eg.createRemoteJWKSet(URL_, { [field]: 1500 }), 'function');
    });
  }
});
