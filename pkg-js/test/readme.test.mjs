// The README as npm shows it (issue 9): an npm quick start first, every link absolute and
// pointing at the package's repository, the contributor commands still named.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './helpers/scratch.mjs';

const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));

test('the first section is the npm quick start with npm install', () => {
  const first = readme.split('\n## ')[1];
  assert.match(first, /^Quick start: Node/);
  assert.match(first, /npm install edgegate/);
  assert.match(first, /createRemoteJWKSet/);
  assert.match(first, /Gate\.create/);
});

test('every README link is absolute, into the repository, to a file that exists', () => {
  const repo = pkg.homepage.replace(/#.*$/, '');
  assert.ok(pkg.repository?.url?.includes(repo.replace(/^https:\/\//, '')), 'repository and homepage agree');
  const links = [...readme.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]);
  assert.ok(links.length > 5);
  for (const l of links) {
    assert.match(l, /^(https?:|#)/, `relative link ${l} does not work on npm`);
    const m = l.startsWith(repo + '/') && l.slice(repo.length).match(/^\/(?:blob|tree)\/main\/(.*)$/);
    if (m) assert.ok(existsSync(join(repoRoot, m[1])), `${l}: ${m[1]} exists`);
  }
});

test('contributor commands are still named', () => {
  assert.match(readme, /bash scripts\/demo\.sh/);
  assert.match(readme, /bash scripts\/test\.sh/);
  assert.ok(readme.indexOf('bash scripts/test.sh') > readme.indexOf('npm install edgegate'));
});
