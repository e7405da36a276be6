// Wycheproof JWS / JWK vectors through compactVerify and the JWK import, on both backends.
// Divergences are the ones listed (with reasons) in tests/vectors/DIVERGENCES.md.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { importEdgegate, repoRoot } from './helpers/scratch.mjs';

const eg = await importEdgegate();
const dir = join(repoRoot, 'tests', 'vectors', 'wycheproof');
const BACKENDS = ['native', 'wasm'];
const PRIVATE = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth'];

// tcIds of json_web_signature_test.json that edgegate answers differently, with reasons in
// DIVERGENCES.md: "valid" ones it rejects and "invalid" ones it accepts.
const divergent = { reject: new Set(), accept: new Set() };
const divFile = join(repoRoot, 'tests', 'vectors', 'DIVERGENCES.md');
if (existsSync(divFile)) {
  let mode = null;
  for (const line of readFileSync(divFile, 'utf8').split('\n')) {
    if (/^## /.test(line) && !/json_web_signature_test/.test(line)) mode = null;
    if (/are rejected/.test(line)) mode = 'reject';
    else if (/are accepted/.test(line)) mode = 'accept';
    const m = /^\| (\d+) \|/.exec(line);
    if (m && mode) divergent[mode].add(Number(m[1]));
  }
}

function publicPart(jwk) {
  if (jwk.kty === 'oct') return jwk;
  const out = { ...jwk };
  for (const k of PRIVATE) delete out[k];
  return out;
}

function keyOf(group) {
  const k = group.public ?? group.private;
  return Array.isArray(k.keys) ? { keys: k.keys.map(publicPart) } : publicPart(k);
}

async function outcome(jws, key, backend) {
  try {
    await eg.compactVerify(jws, key, { backend });
    return 'valid';
  } catch (e) {
    assert.ok(eg.isAuthError(e), `non-AuthError: ${e && e.stack}`);
    assert.match(e.code, /^AUTH-0(01|04|06|15)$/);
    if (jws.length > 8) assert.ok(!e.message.includes(jws), 'message echoes the token');
    return 'invalid';
  }
}

for (const file of ['json_web_signature_test.json', 'json_web_key_test.json', 'json_web_crypto_test.json']) {
  const data = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  describe(`wycheproof ${file}`, () => {
    for (const [gi, group] of data.testGroups.entries()) {
      const tests = group.tests.filter((t) => typeof t.jws === 'string');
      if (tests.length === 0) continue; // JWE groups: edgegate does not decrypt (not a skipped JWS vector).
      it(`group ${gi} ${group.comment}: ${tests.length} vectors, both backends agree`, async () => {
        const key = keyOf(group);
        const failures = [];
        for (const t of tests) {
          let expected = t.result === 'acceptable' ? null : t.result;
          if (file === 'json_web_signature_test.json') {
            if (divergent.reject.has(t.tcId)) expected = 'invalid';
            if (divergent.accept.has(t.tcId)) expected = 'valid';
          }
          const results = [];
          for (const backend of BACKENDS) {
            results.push(await outcome(t.jws, key, backend));
            if (!Array.isArray(key.keys)) results.push(await outcome(t.jws, { keys: [key] }, backend));
          }
          if (new Set(results).size !== 1) failures.push(`tcId ${t.tcId} (${t.comment}): backends/forms disagree ${results}`);
          else if (expected && results[0] !== expected) failures.push(`tcId ${t.tcId} (${t.comment}): expected ${expected}, got ${results[0]}`);
        }
        assert.deepEqual(failures, []);
      });
    }
  });
}

it('DIVERGENCES.md lists the six rejected valid vectors', () => {
  assert.equal(divergent.reject.size, 6, [...divergent.reject].join(','));
});
