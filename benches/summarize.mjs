// Medians over several `bench.mjs --json=...` runs: per algorithm and token mix, each
// edgegate key form's CPU and wall-clock ratio vs fast-jwt, and its share of the
// node:crypto floor (CPU).
//
//   node benches/summarize.mjs run1.json run2.json run3.json
import { readFileSync } from 'node:fs';

const runs = process.argv.slice(2).map((f) => JSON.parse(readFileSync(f, 'utf8')));
const median = (xs) => {
  const s = xs.filter((x) => x != null).sort((a, b) => a - b);
  if (!s.length) return null;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const get = (r, alg, scenario, lib) => r.verify.find((v) => v.alg === alg && v.scenario === scenario && v.lib === lib);
const f = (x) => (x == null ? 'n/a' : `${x.toFixed(2)}x`);
const LIBS = ['edgegate', 'edgegate jwk', 'edgegate pem', 'jose', 'jsonwebtoken'];
const rows = [];
for (const alg of ['HS256', 'RS256', 'PS256', 'ES256', 'EdDSA']) {
  for (const scenario of ['distinct', 'repeated']) {
    const row = [alg, scenario];
    for (const lib of LIBS) {
      const cpu = median(runs.map((r) => get(r, alg, scenario, lib)?.vsFastJwt));
      const wall = median(runs.map((r) => get(r, alg, scenario, lib)?.wallVsFastJwt));
      row.push(`${f(cpu)} / ${f(wall)}`);
    }
    for (const lib of ['edgegate', 'edgegate jwk', 'edgegate pem', 'fast-jwt']) {
      row.push(alg === 'HS256' ? '-' : f(median(runs.map((r) => get(r, alg, scenario, lib)?.opsPerCpuSec / get(r, alg, scenario, 'node:crypto')?.opsPerCpuSec))));
    }
    rows.push(row);
  }
}
const head = ['alg', 'tokens', ...LIBS.map((l) => `${l} vs fast-jwt (CPU / wall)`), 'edgegate / floor', 'jwk / floor', 'pem / floor', 'fast-jwt / floor'];
console.log(`medians of ${runs.length} runs\n`);
console.log(`| ${head.join(' | ')} |\n|${head.map(() => '---').join('|')}|`);
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
