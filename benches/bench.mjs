// edgegate benchmark: verify + claim checks (iss/aud/exp), side by side in ONE process,
// against jose, fast-jwt, jsonwebtoken and the raw node:crypto signature check (the floor).
//
//   npm --prefix benches run bench          (packs the repo, installs the tarball, runs all)
//   node --expose-gc benches/bench.mjs [--quick] [--only=verify,cache,size,import] [--algs=HS256,ES256] [--json=out.json]
//
// Every verifier is checked before it is timed: it must accept a good token (and return
// its `sub`) and reject an expired one, so no column measures a verifier with checks off.
// Rounds interleave the libraries (round 1: all cells, round 2: all cells, ...) so machine
// drift hits every column alike; the table shows the median ops/s over the rounds.

import { spawnSync } from 'node:child_process';
import {
  createHmac,
  generateKeyPairSync,
  createSecretKey,
  randomBytes,
  timingSafeEqual,
  verify as cryptoVerify,
  constants,
} from 'node:crypto';
import { readFileSync, writeFileSync, existsSync, readdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

import * as jose from 'jose';
import { createVerifier } from 'fast-jwt';
import jsonwebtoken from 'jsonwebtoken';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

const args = new Map(
  process.argv.slice(2).map((a) => {
    const [k, v] = a.replace(/^--/, '').split('=');
    return [k, v ?? true];
  }),
);
const QUICK = args.has('quick');
const ONLY = args.has('only') ? new Set(String(args.get('only')).split(',')) : null;
const part = (name) => !ONLY || ONLY.has(name);

const ROUNDS = QUICK ? 3 : 7;
const CELL_MS = QUICK ? 40 : 100; // time per cell per round
const WARMUP_MS = QUICK ? 30 : 150;
const DISTINCT = 1024; // distinct tokens per algorithm (cycled)
const IMPORT_RUNS = QUICK ? 5 : 15;

const ISS = 'https://issuer.example.com/';
const AUD = 'edgegate-bench';
const NOW = Math.floor(Date.now() / 1000);
const ALGS = args.has('algs') ? String(args.get('algs')).split(',') : ['HS256', 'RS256', 'PS256', 'ES256', 'EdDSA'];

const results = { meta: {}, verify: [], cache: [], size: [], import: [] };

// ---------------------------------------------------------------------------------------
// edgegate: the installed package (the packed tarball, see setup.mjs)

let eg = null;
let egError = null;
// `node benches/bench.mjs` straight from a checkout: install the package first (setup.mjs)
if (!existsSync(path.join(HERE, 'node_modules/edgegate/package.json'))) {
  process.stderr.write('edgegate is not installed in benches/node_modules: running benches/setup.mjs\n');
  spawnSync(process.execPath, [path.join(HERE, 'setup.mjs')], { stdio: 'inherit' });
}
try {
  eg = await import('edgegate');
} catch (e) {
  egError = e;
}
let egPkg = null;
try {
  egPkg = JSON.parse(readFileSync(path.join(HERE, 'node_modules/edgegate/package.json'), 'utf8'));
} catch {
  /* not installed */
}

// ---------------------------------------------------------------------------------------
// keys and tokens, signed by jose (a real peer)

function makeKeys(alg) {
  const kid = `bench-${alg.toLowerCase()}`;
  if (alg === 'HS256') {
    const secret = randomBytes(32);
    const keyObject = createSecretKey(secret);
    const jwk = { kty: 'oct', k: secret.toString('base64url'), kid, alg, use: 'sig' };
    return { alg, kid, secret, signKey: keyObject, verifyKey: keyObject, jwk, pem: secret };
  }
  let pair;
  if (alg === 'RS256' || alg === 'PS256') pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  else if (alg === 'ES256') pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  else pair = generateKeyPairSync('ed25519');
  const jwk = { ...pair.publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' };
  return {
    alg,
    kid,
    signKey: pair.privateKey,
    verifyKey: pair.publicKey,
    jwk,
    pem: pair.publicKey.export({ format: 'pem', type: 'spki' }),
  };
}

async function signToken(k, i, expOffset = 3600) {
  return new jose.SignJWT({
    scope: 'read:orders write:orders',
    roles: ['user', i % 7 === 0 ? 'admin' : 'viewer'],
    email: `user${i}@example.com`,
    email_verified: true,
    tenant: 'acme',
  })
    .setProtectedHeader({ alg: k.alg, typ: 'JWT', kid: k.kid })
    .setIssuer(ISS)
    .setAudience(AUD)
    .setSubject(`user-${i}`)
    .setJti(`jti-${i}-${randomBytes(6).toString('hex')}`)
    .setIssuedAt(NOW - 10)
    .setNotBefore(NOW - 10)
    .setExpirationTime(NOW + expOffset)
    .sign(k.signKey);
}

function splitForFloor(token) {
  const dot = token.lastIndexOf('.');
  return { data: Buffer.from(token.slice(0, dot)), sig: Buffer.from(token.slice(dot + 1), 'base64url') };
}

// ---------------------------------------------------------------------------------------
// verifiers: each returns { name, fn(token) -> payload | Promise<payload>, async }

function floorVerifier(k) {
  // raw signature check on the precomputed signing input: no decode, no claims
  const key = k.verifyKey;
  let check;
  switch (k.alg) {
    case 'HS256':
      check = (s) => timingSafeEqual(createHmac('sha256', k.secret).update(s.data).digest(), s.sig);
      break;
    case 'RS256':
      check = (s) => cryptoVerify('sha256', s.data, key, s.sig);
      break;
    case 'PS256':
      check = (s) =>
        cryptoVerify('sha256', s.data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, s.sig);
      break;
    case 'ES256':
      check = (s) => cryptoVerify('sha256', s.data, { key, dsaEncoding: 'ieee-p1363' }, s.sig);
      break;
    case 'EdDSA':
      check = (s) => cryptoVerify(null, s.data, key, s.sig);
      break;
  }
  return check;
}

async function libVerifiers(k) {
  // each peer gets its fastest documented key form: jose a CryptoKey (it is WebCrypto based),
  // fast-jwt a PEM / secret (it caches the parsed key), jsonwebtoken a KeyObject (a PEM or
  // Buffer secret would be re-parsed on every call, 5-50x slower)
  const v = {};
  const joseKey = await jose.importJWK(k.jwk, k.alg);
  v.jose = {
    async: true,
    fn: async (t) => (await jose.jwtVerify(t, joseKey, { issuer: ISS, audience: AUD, algorithms: [k.alg] })).payload,
  };
  const fj = createVerifier({ key: k.pem, algorithms: [k.alg], allowedIss: ISS, allowedAud: AUD });
  v['fast-jwt'] = { async: false, fn: (t) => fj(t) };
  if (k.alg !== 'EdDSA') {
    v.jsonwebtoken = {
      async: false,
      fn: (t) => jsonwebtoken.verify(t, k.verifyKey, { algorithms: [k.alg], issuer: ISS, audience: AUD }),
    };
  } else {
    v.jsonwebtoken = { skip: 'jsonwebtoken 9 has no EdDSA' };
  }
  return v;
}

async function edgegateVerifier(k, { cache = false, form = 'set' } = {}) {
  if (!eg) return { skip: `edgegate not importable: ${egError?.message ?? 'unknown'}` };
  if (typeof eg.createLocalJWKSet !== 'function') return { skip: 'edgegate has no createLocalJWKSet' };
  if (form === 'jwk' || form === 'pem') {
    // the key passed directly, as jose 6 allows, and the options written inline as users do
    // (a new object per call): what `await jwtVerify(token, jwk, { issuer, audience })` costs
    const key = form === 'jwk' ? k.jwk : k.pem;
    return { async: true, fn: async (t) => (await eg.jwtVerify(t, key, { issuer: ISS, audience: AUD })).payload };
  }
  // the idiomatic use: a local JWK Set (kid + alg pinned by the key), jose's option names;
  // `cache: {max}` is edgegate's opt-in verified-token LRU
  const key = eg.createLocalJWKSet({ keys: [k.jwk] });
  const opts = { issuer: ISS, audience: AUD, algorithms: [k.alg] };
  if (cache) opts.cache = { max: 1000 };
  return { async: true, fn: async (t) => (await eg.jwtVerify(t, key, opts)).payload };
}

async function sanity(name, v, good, expired, sub) {
  const payload = await v.fn(good);
  if (!payload || payload.sub !== sub) throw new Error(`${name}: good token did not verify to sub=${sub}`);
  let rejected = false;
  try {
    await v.fn(expired);
  } catch {
    rejected = true;
  }
  if (!rejected) throw new Error(`${name}: accepted an expired token`);
}

// ---------------------------------------------------------------------------------------
// timing

const gc = globalThis.gc ?? (() => {});

async function timeCell(cell, ms) {
  const { fn, async, tokens } = cell;
  const n = tokens.length;
  let i = cell.cursor ?? 0;
  let ops = 0;
  const batch = cell.batch;
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const deadline = t0 + BigInt(Math.round(ms * 1e6));
  let now = t0;
  if (async) {
    while (now < deadline) {
      for (let b = 0; b < batch; b++) {
        await fn(tokens[i]);
        i = i + 1 === n ? 0 : i + 1;
      }
      ops += batch;
      now = process.hrtime.bigint();
    }
  } else {
    while (now < deadline) {
      for (let b = 0; b < batch; b++) {
        fn(tokens[i]);
        i = i + 1 === n ? 0 : i + 1;
      }
      ops += batch;
      now = process.hrtime.bigint();
    }
  }
  cell.cursor = i;
  const c = process.cpuUsage(c0);
  const cpuUs = c.user + c.system;
  cell.wall = cell.wall ?? [];
  cell.wall.push((ops * 1e9) / Number(now - t0));
  // ops per CPU-second of this process (all its threads): stable on a shared machine
  return (ops * 1e6) / Math.max(cpuUs, 1);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

async function runCells(cells, label) {
  for (const c of cells) {
    c.batch = 16;
    await timeCell(c, WARMUP_MS);
    c.samples = [];
  }
  for (let r = 0; r < ROUNDS; r++) {
    process.stderr.write(`  ${label}: round ${r + 1}/${ROUNDS}\r`);
    for (const c of cells) {
      gc();
      c.samples.push(await timeCell(c, CELL_MS));
    }
  }
  process.stderr.write('\n');
  for (const c of cells) {
    c.median = median(c.samples);
    c.wallMedian = median(c.wall);
  }
}

// ---------------------------------------------------------------------------------------
// formatting

const fmtOps = (x) => (x == null ? 'n/a' : Math.round(x).toLocaleString('en-US'));
const fmtRatio = (x) => (x == null ? 'n/a' : `${x.toFixed(2)}x`);

function table(headers, rows) {
  const lines = [`| ${headers.join(' | ')} |`, `|${headers.map(() => '---').join('|')}|`];
  for (const r of rows) lines.push(`| ${r.join(' | ')} |`);
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------
// part 1 + 2: verify throughput

const LIBS = ['edgegate', 'edgegate jwk', 'edgegate pem', 'jose', 'fast-jwt', 'jsonwebtoken', 'node:crypto'];

async function benchVerify() {
  const t0 = Date.now();
  process.stderr.write('generating keys and signing tokens with jose...\n');
  const perAlg = {};
  for (const alg of ALGS) {
    const k = makeKeys(alg);
    const tokens = [];
    for (let i = 0; i < DISTINCT; i++) tokens.push(await signToken(k, i));
    const expired = await signToken(k, 99999, -3600);
    perAlg[alg] = { k, tokens, expired, repeated: [tokens[0]] };
  }
  process.stderr.write(`  done in ${Date.now() - t0} ms\n`);

  const cells = [];
  const cacheCells = [];
  const skips = [];
  for (const alg of ALGS) {
    const { k, tokens, expired, repeated } = perAlg[alg];
    const vs = {
      edgegate: await edgegateVerifier(k),
      'edgegate jwk': await edgegateVerifier(k, { form: 'jwk' }),
      'edgegate pem': await edgegateVerifier(k, { form: 'pem' }),
      ...(await libVerifiers(k)),
    };
    for (const [lib, v] of Object.entries(vs)) {
      if (v.skip) {
        skips.push(`${lib} ${alg}: ${v.skip}`);
        continue;
      }
      try {
        await sanity(`${lib} ${alg}`, v, tokens[1], expired, 'user-1');
      } catch (e) {
        skips.push(`${lib} ${alg}: FAILED the correctness check: ${e.code ?? ''} ${e.message}`);
        continue;
      }
      for (const [scenario, toks] of part('verify')
        ? [
            ['distinct', tokens],
            ['repeated', repeated],
          ]
        : []) {
        cells.push({ alg, lib, scenario, fn: v.fn, async: v.async, tokens: toks });
      }
    }
    const floor = floorVerifier(k);
    const splitD = tokens.map(splitForFloor);
    if (!splitD.every((s) => floor(s))) throw new Error(`node:crypto ${alg}: floor check failed`);
    if (part('verify')) {
      cells.push({ alg, lib: 'node:crypto', scenario: 'distinct', fn: floor, async: false, tokens: splitD });
      cells.push({ alg, lib: 'node:crypto', scenario: 'repeated', fn: floor, async: false, tokens: [splitD[0]] });
    }

    // cache on: edgegate's verified-token cache vs fast-jwt `cache: true`, same token repeated
    if (part('cache')) {
      const egc = await edgegateVerifier(k, { cache: true });
      if (egc.skip) skips.push(`edgegate cache ${alg}: ${egc.skip}`);
      else {
        try {
          await sanity(`edgegate cache ${alg}`, egc, tokens[1], expired, 'user-1');
          cacheCells.push({ alg, lib: 'edgegate', fn: egc.fn, async: egc.async, tokens: repeated });
        } catch (e) {
          skips.push(`edgegate cache ${alg}: FAILED the correctness check: ${e.code ?? ''} ${e.message}`);
        }
      }
      const fjc = createVerifier({ key: k.pem, algorithms: [alg], allowedIss: ISS, allowedAud: AUD, cache: true });
      await sanity(`fast-jwt cache ${alg}`, { fn: fjc }, tokens[1], expired, 'user-1');
      cacheCells.push({ alg, lib: 'fast-jwt', fn: fjc, async: false, tokens: repeated });
    }
  }

  if (cells.length) await runCells(cells, 'verify');
  const cellOf = (alg, lib, scenario) => cells.find((c) => c.alg === alg && c.lib === lib && c.scenario === scenario);
  const rows = [];
  const wrows = [];
  for (const alg of cells.length ? ALGS : []) {
    for (const scenario of ['distinct', 'repeated']) {
      const fj = cellOf(alg, 'fast-jwt', scenario);
      const row = [alg, scenario];
      const wrow = [alg, scenario];
      for (const lib of LIBS) {
        const cell = cellOf(alg, lib, scenario);
        const m = cell?.median;
        const wm = cell?.wallMedian;
        row.push(m == null ? 'n/a' : `${fmtOps(m)} (${fmtRatio(m / fj.median)})`);
        wrow.push(wm == null ? 'n/a' : `${fmtOps(wm)} (${fmtRatio(wm / fj.wallMedian)})`);
        results.verify.push({
          alg,
          scenario,
          lib,
          opsPerCpuSec: m ?? null,
          wallOpsPerSec: wm ?? null,
          vsFastJwt: m == null ? null : m / fj.median,
          wallVsFastJwt: wm == null ? null : wm / fj.wallMedian,
          samples: (cell?.samples ?? []).map(Math.round),
        });
      }
      rows.push(row);
      wrows.push(wrow);
    }
  }
  if (cells.length) {
    const heads = ['alg', 'tokens', ...LIBS.map((l) => (l === 'node:crypto' ? 'node:crypto floor' : l))];
    console.log('\n## verify + iss/aud/exp checks, median ops per CPU-second (ratio vs fast-jwt)\n');
    console.log('edgegate = createLocalJWKSet; edgegate jwk / pem = the JWK object / PEM string (HS256: the secret bytes) passed directly, options inline\n');
    console.log(table(heads, rows));
    console.log('\n## the same, median wall-clock ops per second (ratio vs fast-jwt)\n');
    console.log(table(heads, wrows));
    // edgegate vs the floor (asymmetric): CPU time
    const frows = [];
    for (const alg of ALGS.filter((a) => a !== 'HS256')) {
      for (const scenario of ['distinct', 'repeated']) {
        const fl = cellOf(alg, 'node:crypto', scenario)?.median;
        frows.push([alg, scenario, ...['edgegate', 'edgegate jwk', 'edgegate pem', 'fast-jwt'].map((l) => {
          const m = cellOf(alg, l, scenario)?.median;
          return m == null || fl == null ? 'n/a' : fmtRatio(m / fl);
        })]);
      }
    }
    console.log('\n## share of the node:crypto floor (CPU ops/s ratio)\n');
    console.log(table(['alg', 'tokens', 'edgegate', 'edgegate jwk', 'edgegate pem', 'fast-jwt'], frows));
  }

  if (cacheCells.length) {
    await runCells(cacheCells, 'cache');
    const crow = [];
    for (const alg of ALGS) {
      const fj = cacheCells.find((c) => c.alg === alg && c.lib === 'fast-jwt')?.median;
      const e = cacheCells.find((c) => c.alg === alg && c.lib === 'edgegate')?.median;
      crow.push([alg, fmtOps(e), fmtOps(fj), e == null ? 'n/a' : fmtRatio(e / fj)]);
      results.cache.push({ alg, edgegate: e ?? null, fastJwtCache: fj ?? null, ratio: e == null ? null : e / fj });
    }
    console.log('\n## cache on, same token repeated: edgegate cache vs fast-jwt `cache: true`, median ops per CPU-second\n');
    console.log(table(['alg', 'edgegate (cache on)', 'fast-jwt (cache: true)', 'edgegate / fast-jwt'], crow));
  }
  if (skips.length) {
    console.log('\nnot measured:');
    for (const s of skips) console.log(`- ${s}`);
  }
}

// ---------------------------------------------------------------------------------------
// part 3: size of what each entry point ships (raw and gzip -9)

function walkFiles(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...walkFiles(p));
    else out.push(p);
  }
  return out;
}

const gz = (buf) => gzipSync(buf, { level: 9 }).length;
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;

async function benchSize() {
  const root = path.join(HERE, 'node_modules/edgegate');
  if (!existsSync(root)) {
    console.log('\n## size: edgegate not installed, skipped');
    return;
  }
  const rows = [];
  for (const f of walkFiles(root).filter((f) => f.endsWith('.wasm'))) {
    const buf = readFileSync(f);
    rows.push([path.relative(root, f), kb(buf.length), kb(gz(buf))]);
    results.size.push({ file: path.relative(root, f), raw: buf.length, gzip: gz(buf) });
  }
  console.log('\n## wasm files in the package (raw, gzip -9)\n');
  console.log(table(['file', 'raw', 'gzip'], rows));

  // Per entry point: bundle it with esbuild for its runtime conditions and sum every output
  // (JS + wasm asset) = what that runtime loads.
  let esbuild;
  try {
    esbuild = await import('esbuild');
  } catch {
    console.log('\n(esbuild not installed: per-entry bundle sizes skipped)');
    return;
  }
  const entries = [
    { name: 'edgegate (node)', spec: 'edgegate', platform: 'node', conditions: ['node', 'import'] },
    { name: 'edgegate (workerd)', spec: 'edgegate', platform: 'neutral', conditions: ['workerd', 'worker', 'import'] },
    { name: 'edgegate (browser)', spec: 'edgegate', platform: 'browser', conditions: ['browser', 'import'] },
    { name: 'edgegate/browser', spec: 'edgegate/browser', platform: 'browser', conditions: ['browser', 'import'] },
  ];
  const erows = [];
  for (const e of entries) {
    const out = mkdtempSync(path.join(os.tmpdir(), 'eg-size-'));
    try {
      const meta = await esbuild.build({
        metafile: true,
        absWorkingDir: HERE, // metafile paths are relative to it (resolved against HERE below), whatever the cwd
        stdin: { contents: `export * from '${e.spec}';`, resolveDir: HERE, loader: 'js' },
        bundle: true,
        format: 'esm',
        minify: true,
        platform: e.platform,
        conditions: e.conditions,
        mainFields: ['module', 'main'],
        outdir: out,
        loader: { '.wasm': 'file' },
        external: ['node:*'],
        logLevel: 'silent',
        assetNames: '[name]',
      });
      // JS = the bundle's .js outputs; wasm = every distinct .wasm the bundle imports or
      // loads at run time (new URL('x.wasm', import.meta.url), readFileSync(__dirname + ...),
      // which esbuild does not follow): the names each bundled input mentions, resolved
      // next to that input
      let raw = 0;
      let gzip = 0;
      for (const f of walkFiles(out).filter((f) => f.endsWith('.js'))) {
        const buf = readFileSync(f);
        raw += buf.length;
        gzip += gz(buf);
      }
      const wasmFiles = new Set();
      for (const input of Object.keys(meta.metafile.inputs)) {
        const abs = path.resolve(HERE, input);
        if (abs.endsWith('.wasm')) wasmFiles.add(abs);
        if (!abs.endsWith('.js') || !existsSync(abs)) continue;
        const src = readFileSync(abs, 'utf8');
        for (const m of src.matchAll(/([\w./-]*?)([\w-]+\.wasm)/g)) {
          const rel = m[1].startsWith('.') ? path.join(m[1], m[2]) : m[2];
          const cand = path.resolve(path.dirname(abs), rel);
          if (existsSync(cand)) wasmFiles.add(cand);
        }
      }
      let wasmRaw = 0;
      let wasmGz = 0;
      for (const f of wasmFiles) {
        const buf = readFileSync(f);
        wasmRaw += buf.length;
        wasmGz += gz(buf);
      }
      raw += wasmRaw;
      gzip += wasmGz;
      erows.push([e.name, kb(raw), kb(gzip), `${kb(wasmRaw)} / ${kb(wasmGz)}`]);
      results.size.push({ entry: e.name, raw, gzip, wasmRaw, wasmGzip: wasmGz });
    } catch (err) {
      erows.push([e.name, 'build failed', String(err.message).split('\n')[0], '']);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }
  console.log('\n## per entry point, minified esbuild bundle + wasm (what the runtime loads)\n');
  console.log(table(['entry', 'raw', 'gzip', 'of which wasm (raw / gzip)'], erows));
}

// ---------------------------------------------------------------------------------------
// part 4: cold import time in a fresh node process

function benchImport() {
  const probe = (spec) =>
    `const c0=process.cpuUsage();const t0=performance.now();import(${JSON.stringify(spec)}).then(async(m)=>{const t1=performance.now();` +
    `const c=process.cpuUsage(c0);process.stdout.write(JSON.stringify({imp:t1-t0,cpu:(c.user+c.system)/1000}))})`;
  const specs = [
    ['edgegate', 'edgegate'],
    ['jose', 'jose'],
    ['fast-jwt', 'fast-jwt'],
    ['jsonwebtoken', 'jsonwebtoken'],
  ];
  const rows = [];
  const baseline = [];
  for (let i = 0; i < IMPORT_RUNS; i++) {
    const t = process.hrtime.bigint();
    spawnSync(process.execPath, ['-e', '0'], { cwd: HERE });
    baseline.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  for (const [name, spec] of specs) {
    const imp = [];
    const cpu = [];
    const wall = [];
    let failed = null;
    for (let i = 0; i < IMPORT_RUNS; i++) {
      const t = process.hrtime.bigint();
      const r = spawnSync(process.execPath, ['-e', probe(spec)], { cwd: HERE, encoding: 'utf8' });
      wall.push(Number(process.hrtime.bigint() - t) / 1e6);
      if (r.status !== 0) {
        failed = (r.stderr || '').split('\n').find((l) => l.includes('Error')) ?? 'failed';
        break;
      }
      const o = JSON.parse(r.stdout);
      imp.push(o.imp);
      cpu.push(o.cpu);
    }
    if (failed) {
      rows.push([name, 'n/a', 'n/a', 'n/a', failed.slice(0, 80)]);
      continue;
    }
    rows.push([name, `${median(imp).toFixed(1)} ms`, `${median(cpu).toFixed(1)} ms`, `${median(wall).toFixed(1)} ms`, '']);
    results.import.push({ spec: name, importMs: median(imp), importCpuMs: median(cpu), wallMs: median(wall) });
  }
  rows.push(['(node -e 0, no import)', '', '', `${median(baseline).toFixed(1)} ms`, 'process baseline']);
  results.import.push({ spec: 'baseline', wallMs: median(baseline) });
  console.log(`\n## cold import in a fresh node process, median of ${IMPORT_RUNS}\n`);
  console.log(table(['module', 'import() wall', 'import() CPU', 'whole process wall', 'note'], rows));
}

// ---------------------------------------------------------------------------------------

const started = Date.now();
results.meta = {
  node: process.version,
  v8: process.versions.v8,
  cpu: os.cpus()[0]?.model ?? 'unknown',
  cpus: os.cpus().length,
  platform: `${os.platform()} ${os.release()} ${os.arch()}`,
  edgegate: egPkg?.version ?? null,
  jose: require('jose/package.json').version,
  fastJwt: require('fast-jwt/package.json').version,
  jsonwebtoken: require('jsonwebtoken/package.json').version,
  rounds: ROUNDS,
  cellMs: CELL_MS,
  date: new Date().toISOString(),
  loadavg: os.loadavg().map((x) => x.toFixed(2)).join(' '),
};
console.log(
  `# edgegate bench  node ${results.meta.node}  ${results.meta.cpu} x${results.meta.cpus}  ` +
    `edgegate ${results.meta.edgegate ?? '(not installed)'}  jose ${results.meta.jose}  ` +
    `fast-jwt ${results.meta.fastJwt}  jsonwebtoken ${results.meta.jsonwebtoken}  ` +
    `${ROUNDS} rounds x ${CELL_MS} ms per cell  load average ${results.meta.loadavg}`,
);
if (!eg) console.log(`\nedgegate not importable (${egError?.message}); run setup.mjs first`);

if (part('verify') || part('cache')) await benchVerify();
if (part('size')) await benchSize();
if (part('import')) benchImport();

console.log(`\ntotal bench time ${((Date.now() - started) / 1000).toFixed(1)} s`);
if (args.has('json')) {
  const out = args.get('json') === true ? path.join(HERE, 'results.json') : String(args.get('json'));
  writeFileSync(out, JSON.stringify(results, null, 2));
  console.log(`results written to ${out}`);
}
