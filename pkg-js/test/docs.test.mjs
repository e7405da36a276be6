// Runs every ```js example of README.md and docs/*.md against the packed package, as a
// user would (each block is a module in the scratch project, so `import 'edgegate'`
// resolves to the installed tarball and `jose`, the peer that signs the example tokens,
// to the repo's devDependency).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, scratchDir } from './helpers/scratch.mjs';

const files = ['README.md', ...readdirSync(join(repoRoot, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

let total = 0;
for (const file of files) {
  const text = readFileSync(join(repoRoot, file), 'utf8');
  const blocks = [...text.matchAll(/^```js\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
  blocks.forEach((code, i) => {
    total++;
    const line = text.slice(0, text.indexOf(code)).split('\n').length;
    test(`${file}:${line} example runs`, () => {
      const path = join(scratchDir, `doc-example-${file.replace(/[^a-z0-9]/gi, '_')}-${i}.mjs`);
      writeFileSync(path, code);
      const r = spawnSync(process.execPath, [path], { cwd: scratchDir, encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.status, 0, `example at ${file}:${line} failed:\n${r.stdout}\n${r.stderr}`);
    });
  });
}

test('the docs have runnable examples', () => {
  assert.ok(total >= 5, `expected at least 5 js examples, found ${total}`);
});
