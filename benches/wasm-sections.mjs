// Size breakdown of a .wasm file: sections, and code bytes by crate (from the name section).
//   node benches/wasm-sections.mjs path/to/x.wasm [--top=25]
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const file = process.argv[2];
const TOP = Number((process.argv.find((a) => a.startsWith('--top=')) ?? '--top=25').split('=')[1]);
const buf = readFileSync(file);
let p = 8;
const leb = () => {
  let r = 0;
  let shift = 0;
  for (;;) {
    const b = buf[p++];
    r += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if (!(b & 0x80)) return r;
  }
};
const str = () => {
  const n = leb();
  const s = buf.toString('utf8', p, p + n);
  p += n;
  return s;
};
const NAMES = ['custom', 'type', 'import', 'function', 'table', 'memory', 'global', 'export', 'start', 'element', 'code', 'data', 'datacount'];
const sections = [];
let importedFuncs = 0;
let bodies = [];
const fnNames = new Map();
while (p < buf.length) {
  const id = buf[p++];
  const size = leb();
  const start = p;
  let name = NAMES[id] ?? `id${id}`;
  if (id === 0) {
    name = `custom "${str()}"`;
    if (name === 'custom "name"') {
      while (p < start + size) {
        const sub = buf[p++];
        const subSize = leb();
        const subEnd = p + subSize;
        if (sub === 1) {
          const n = leb();
          for (let i = 0; i < n; i++) {
            const idx = leb();
            fnNames.set(idx, str());
          }
        }
        p = subEnd;
      }
    }
  } else if (id === 2) {
    const n = leb();
    for (let i = 0; i < n; i++) {
      str();
      str();
      const kind = buf[p++];
      if (kind === 0) {
        leb();
        importedFuncs++;
      } else if (kind === 1) {
        p++;
        const f = leb();
        leb();
        if (f & 1) leb();
      } else if (kind === 2) {
        const f = leb();
        leb();
        if (f & 1) leb();
      } else if (kind === 3) p += 2;
    }
  } else if (id === 10) {
    const n = leb();
    for (let i = 0; i < n; i++) {
      const s = leb();
      bodies.push({ idx: importedFuncs + i, size: s });
      p += s;
    }
  }
  p = start + size;
  sections.push({ name, size, bytes: buf.subarray(start, start + size) });
}
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
console.log(`${file}: ${kb(buf.length)} raw, ${kb(gzipSync(buf, { level: 9 }).length)} gzip -9\n`);
console.log('| section | raw | gzip (alone) |\n|---|---|---|');
for (const s of sections.sort((a, b) => b.size - a.size)) console.log(`| ${s.name} | ${kb(s.size)} | ${kb(gzipSync(s.bytes, { level: 9 }).length)} |`);
const crate = (n) => {
  if (!n) return '(unnamed)';
  let s = n.replace(/^<+/, '').replace(/^(impl |dyn )/, '');
  s = s.replace(/\[[0-9a-f]+\]/g, '');
  const m = s.match(/^([A-Za-z_][A-Za-z0-9_]*)::/);
  return m ? m[1] : s.split(/[<( ]/)[0] || '(other)';
};
const byCrate = new Map();
for (const b of bodies) {
  const c = crate(fnNames.get(b.idx));
  byCrate.set(c, (byCrate.get(c) ?? 0) + b.size);
}
const codeTotal = bodies.reduce((a, b) => a + b.size, 0);
console.log(`\ncode bytes by crate (first path segment of the symbol; generics land in the caller's crate): ${kb(codeTotal)} total\n`);
console.log('| crate | code | share |\n|---|---|---|');
for (const [c, n] of [...byCrate].sort((a, b) => b[1] - a[1]).slice(0, TOP)) console.log(`| ${c} | ${kb(n)} | ${((100 * n) / codeTotal).toFixed(1)}% |`);
console.log(`\nlargest functions:\n`);
for (const b of bodies.sort((a, b) => b.size - a.size).slice(0, TOP)) console.log(`  ${String(b.size).padStart(7)}  ${(fnNames.get(b.idx) ?? '?').slice(0, 150)}`);
