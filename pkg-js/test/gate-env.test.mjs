// Gate.create on Node reads process.env by default (issue 9); `new Gate(...)` is a clear error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { scratchDir } from './helpers/scratch.mjs';

const CONFIG = { providers: [{ type: 'jwt', issuer: 'https://issuer.example', audience: 'api', secret: { env: 'JWT_SECRET' } }], routes: [{ path: '/api/**' }] };

/** Runs `body` in a child node with `env`, edgegate imported as ESM (`eg`) and CJS (`egc`). */
function run(body, env) {
  const src = `
    import { createRequire } from 'node:module';
    const eg = await import(${JSON.stringify(pathToFileURL(join(scratchDir, 'esm.mjs')).href)});
    const egc = createRequire(${JSON.stringify(join(scratchDir, 'package.json'))})('edgegate');
    const CONFIG = ${JSON.stringify(CONFIG)};
    const out = {};
    ${body}
    console.log(JSON.stringify(out));`;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', src], { env: { PATH: process.env.PATH, ...env }, encoding: 'utf8' }));
}

test('Gate.create(config) on Node reads process.env (ESM and CJS)', () => {
  const out = run(
    `for (const [n, m] of [['esm', eg], ['cjs', egc]]) { try { m.Gate.create(CONFIG); out[n] = 'ok'; } catch (e) { out[n] = e.code + ' ' + e.message; } }`,
    { JWT_SECRET: 'a-string-secret-at-least-256-bits-long' },
  );
  assert.deepEqual(out, { esm: 'ok', cjs: 'ok' });
});

test('without the variable: the config error names it; an explicit env wins over process.env', () => {
  const out = run(
    `try { eg.Gate.create(CONFIG); out.missing = 'ok'; } catch (e) { out.missing = e.code + ' ' + e.message; }
     try { eg.Gate.create(CONFIG, { env: {} }); out.explicit = 'ok'; } catch (e) { out.explicit = e.code; }`,
    {},
  );
  assert.match(out.missing, /^AUTH-015 .*JWT_SECRET/);
  assert.equal(out.explicit, 'AUTH-015');
  const out2 = run(`try { eg.Gate.create(CONFIG, { env: {} }); out.explicit = 'ok'; } catch (e) { out.explicit = e.code; }`, { JWT_SECRET: 'a-string-secret-at-least-256-bits-long' });
  assert.equal(out2.explicit, 'AUTH-015', 'options.env replaces process.env');
});

test('new Gate(config, env) is a clear error pointing at Gate.create', () => {
  const out = run(`try { new eg.Gate(CONFIG, {}); out.e = 'constructed'; } catch (e) { out.e = e.code + ' ' + e.message; }`, {});
  assert.match(out.e, /^AUTH-015 .*Gate\.create\(config, options\)/);
});
