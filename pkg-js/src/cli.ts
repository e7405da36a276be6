#!/usr/bin/env node
/**
 * The `edgegate` CLI (node:util parseArgs). `edgegate --help` lists the commands.
 *
 * Exit codes: 0 success / allowed / valid; 1 denied / invalid token / invalid config;
 * 2 usage error, unreadable file, or a configuration the gate cannot load.
 */
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { createHmac } from 'node:crypto';
import { parseArgs } from 'node:util';
import { defaultLimits, gateBinding } from './api.js';
import { Gate, createAdminClientFromEnv, createApiKey, createRedisStore, inspectToken, isAuthError, type ApiKeyRecord, type GateDecision } from './node.js';
import { INSPECT_ONLY, keyEndpoints, rateLimitStatus, type GateOptions } from './gate.js';
import { readBounded } from './remote.js';

const VERSION = '0.1.0';

const HELP = `edgegate: the edgegate gate from a terminal

usage: edgegate <command> [options]        (--flag value and --flag=value both work)

commands:
  providers [--format table|json]
      The 11 provider presets with aliases, config fields and environment variables.
      e.g. edgegate providers --format json
  inspect [TOKEN] [--format text|json]
      Header, claims, expiry countdown and warnings of a JWT; nothing is verified.
      e.g. edgegate inspect "$TOKEN"      echo "$TOKEN" | edgegate inspect -
  validate [TOKEN] --provider P [--<field> VALUE]... [--format text|json]
      Verifies a token with one provider preset (fields as flags: --domain, --client-id,
      --secret, --issuer, --audience, ...; unset fields from the environment: AUTH0_DOMAIN,
      JWT_SECRET, ...) and prints the identity.
      e.g. JWT_SECRET=... edgegate validate --provider jwt --issuer https://issuer.example < token.txt
  health --provider P [--<field> VALUE]... [--timeout MS] [--format text|json]
      Whether a provider's keys can be reached: the discovery document and the JWKS (status,
      timing, cache headers, key count); fields as for validate.
      e.g. AUTH0_DOMAIN=tenant.auth0.com AUTH0_AUDIENCE=api edgegate health --provider auth0
  check --config F --method M --path P [--token T] [--header NAME:VALUE]... [--client-ip IP]
        [--format text|json] [--now S]
      The gate's decision for one request (with its rate-limit fields).
      e.g. edgegate check --config gate.json --method GET --path /admin/x --token-env TOKEN
  config validate FILE [--format text|json]
      Loads a config as the gate does; prints each error with its field path (JSON syntax
      errors with line and column).
      e.g. edgegate config validate gate.json
  apikey create --account A [--name N] [--role R]... [--permission P]... [--days D] --store FILE
  apikey rotate KEY_ID --store FILE [--days D] [--overlap SECONDS]
  apikey list --store FILE         apikey revoke KEY_ID --store FILE
      API keys in a JSON file store; create and rotate print the new key once and the
      \`wrangler kv key put\` lines for the Worker's KV (--binding NAME, default EDGEGATE_KV).
      rotate: a new key with the same account, name, roles and permissions; the old one is
      revoked at once, or with --overlap keeps working for that many seconds (at most 30 days).
      e.g. edgegate apikey create --account acme --role deployer --days 90 --store keys.json
           edgegate apikey rotate k_abc123 --overlap 3600 --store keys.json
  ratelimit status --config F --policy P --key K [--redis-url URL] [--prefix P] [--now S]
                   [--format text|json]
      A rate-limit policy's counter for one key value (a sub, an address, an API key id ...)
      in its store: Redis is read (REDIS_URL or --redis-url; prefix default edgegate:); a
      memory store lives inside each gate process, so there is nothing to read (said so).
      e.g. edgegate ratelimit status --config gate.json --policy per-user --key alice --redis-url redis://127.0.0.1:6379

  users get USER_ID [--require-enabled] [--timeout MS] [--format text|json]
      A user's profile from the identity provider's admin API (Auth0 Management API or
      Keycloak Admin API) with client credentials from the environment: AUTH_API_PROVIDER
      (auth0, the default, or keycloak), AUTH_API_BASEURL (Auth0: https://TENANT.auth0.com;
      Keycloak: https://SERVER/admin/realms/REALM), AUTH_API_CLIENT_ID, AUTH_API_CLIENT_SECRET.
      Exit 0 found, 1 not found (AUTH-017) or disabled with --require-enabled (AUTH-018),
      2 usage or configuration error (AUTH-015) or the API refused or cannot be reached (AUTH-014).
      e.g. AUTH_API_BASEURL=https://acme.eu.auth0.com AUTH_API_CLIENT_ID=... AUTH_API_CLIENT_SECRET=... \\
             edgegate users get 'auth0|64b1f0c2' --format json

  token sign --sub S --issuer I [--audience A] [--role R]... [--permission P]... [--expires SECONDS]
             [--secret-env NAME]
      Development only (refused when NODE_ENV=production): an HS256 token signed with the
      secret in the environment variable NAME (default JWT_SECRET), for trying configs.
      e.g. JWT_SECRET=... edgegate token sign --sub alice --issuer https://issuer.example --role admin

tokens: as an argument, "-" or nothing to read stdin, or --token-env NAME (argv leaks into
shell history and ps). Colours only on a TTY (NO_COLOR disables them).

exit codes: 0 ok/allowed/valid/healthy, 1 denied/invalid/unhealthy, 2 usage or configuration
  error (or a store that cannot be reached).
  --help, -h   this help        --version   the version`;

class UsageError extends Error {}

const tty = process.stdout.isTTY && !process.env.NO_COLOR;
const c = (code: string, s: string) => (tty ? `\x1b[${code}m${s}\x1b[0m` : s);
const out = (s: string) => process.stdout.write(s + '\n');
const err = (s: string) => process.stderr.write(`edgegate: ${s}\n`);

type Values = Record<string, string | boolean | string[] | boolean[] | undefined>;

function parse(args: string[], options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }>, strict = true): { values: Values; positionals: string[] } {
  try {
    return parseArgs({ args, options: { format: { type: 'string' }, help: { type: 'boolean', short: 'h' }, ...options }, allowPositionals: true, strict });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

function format(v: unknown): 'text' | 'json' | 'table' {
  if (v === undefined) return 'text';
  if (v !== 'json' && v !== 'text' && v !== 'table') throw new UsageError('--format is text, table or json');
  return v;
}

/** A token from the argument, `-`/stdin, or --token-env. */
function readToken(positional: string | undefined, tokenEnv: unknown): string {
  if (typeof tokenEnv === 'string') {
    const t = process.env[tokenEnv];
    if (!t) throw new UsageError(`environment variable ${tokenEnv} is not set`);
    return t.trim();
  }
  if (positional !== undefined && positional !== '-') return positional.trim();
  if (process.stdin.isTTY) throw new UsageError('no token: give it as an argument, on stdin, or with --token-env NAME');
  const t = readFileSync(0, 'utf8').trim();
  if (!t) throw new UsageError('no token on stdin');
  return t;
}

/** Line and column of a JSON.parse error position. */
function jsonError(text: string, e: Error): string {
  const m = /position (\d+)/.exec(e.message);
  const lc = /line (\d+) column (\d+)/.exec(e.message);
  if (lc) return `line ${lc[1]}, column ${lc[2]}: ${e.message.replace(/ in JSON at .*$/, '')}`;
  if (!m) return e.message;
  const pos = Number(m[1]);
  const before = text.slice(0, pos).split('\n');
  return `line ${before.length}, column ${before[before.length - 1].length + 1}: ${e.message.replace(/ in JSON at .*$/, '')}`;
}

function readJsonFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    const m = jsonError(text, e as Error);
    throw Object.assign(new UsageError(`${file}: ${m}`), { json: m });
  }
}

interface CatalogEntry {
  type: string;
  aliases: string[];
  fields: Array<{ name: string; required: boolean; env: string[]; about: string }>;
  env: string[];
}

function catalog(): CatalogEntry[] {
  return JSON.parse((gateBinding() as { providerCatalog(): string }).providerCatalog()) as CatalogEntry[];
}

function cmdProviders(args: string[]): number {
  const { values } = parse(args, {});
  const f = format(values.format);
  const list = catalog();
  if (f === 'json') {
    out(JSON.stringify(list, null, 2));
    return 0;
  }
  const rows = list.map((p) => [p.type, p.aliases.join(', '), p.fields.map((x) => (x.required ? `${x.name}*` : x.name)).join(', '), p.env.join(', ')]);
  const head = ['type', 'aliases', 'fields (* required)', 'environment'];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((x, i) => x.padEnd(w[i])).join('  ').trimEnd();
  out(c('1', line(head)));
  for (const r of rows) out(line(r));
  return 0;
}

function cmdInspect(args: string[]): number {
  const { values, positionals } = parse(args, { 'token-env': { type: 'string' } });
  const f = format(values.format);
  const token = readToken(positionals[0], values['token-env']);
  const i = inspectToken(token);
  if (f === 'json') {
    out(JSON.stringify({ header: i.header, claims: i.claims, expiresAt: i.expiresAt, expiresIn: i.expiresIn, expired: i.expired, notYetValid: i.notYetValid, warnings: i.warnings, verified: false }, null, 2));
    return 0;
  }
  out(c('1', 'header'));
  out(JSON.stringify(i.header, null, 2));
  out(c('1', 'claims'));
  out(JSON.stringify(i.claims, null, 2));
  if (i.expiresIn === null) out(c('33', 'expiry: none (no exp claim)'));
  else if (i.expired) out(c('31', `expiry: expired ${-i.expiresIn}s ago (${new Date((i.expiresAt ?? 0) * 1000).toISOString()})`));
  else out(c('32', `expiry: in ${i.expiresIn}s (${new Date((i.expiresAt ?? 0) * 1000).toISOString()})`));
  if (i.notYetValid) out(c('33', 'not yet valid (nbf in the future)'));
  for (const w of i.warnings) out(c('33', `warning: ${w}`));
  out('(not verified: use `edgegate validate` to check the signature)');
  return 0;
}

const camel = (s: string) => s.replace(/-([a-z])/g, (_, x: string) => x.toUpperCase());

/** Splits the open-ended provider field flags (--domain, --client-id, ...) from `known`. */
function providerFlags(args: string[], known: Set<string>): { entry: Record<string, unknown>; rest: string[] } {
  const rest: string[] = [];
  const entry: Record<string, unknown> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    if (!flag.startsWith('--') || known.has(flag) || flag === '--') {
      rest.push(a);
      continue;
    }
    const v = inline ?? args[++i];
    if (v === undefined) throw new UsageError(`${flag} needs a value`);
    entry[camel(flag.slice(2))] = v;
  }
  return { entry, rest };
}

async function cmdValidate(args: string[]): Promise<number> {
  // Provider fields are open-ended flags (--domain, --client-id, ...): split them off
  // first, then parse the known ones strictly.
  const { entry, rest } = providerFlags(args, new Set(['--provider', '--token-env', '--format', '--help', '-h']));
  const { values, positionals } = parse(rest, { provider: { type: 'string' }, 'token-env': { type: 'string' } });
  const f = format(values.format);
  if (typeof values.provider !== 'string') throw new UsageError('--provider is required');
  entry.type = values.provider;
  const token = readToken(positionals[0], values['token-env']);
  let gate: Gate;
  try {
    gate = Gate.create({ providers: [entry], routes: [{ path: '/**' }] } as never, { env: process.env });
  } catch (e) {
    const m = isAuthError(e) ? `${e.code} ${e.message}` : (e as Error).message;
    if (f === 'json') out(JSON.stringify({ valid: false, code: 'AUTH-015', error: m }));
    else err(m);
    return 2;
  }
  process.stderr.write(c('2', 'verifying (fetching keys if the provider has remote ones)...') + '\n');
  const d = await gate.decide({ method: 'GET', path: '/', headers: [['authorization', `Bearer ${token}`]] });
  if (d.allow) {
    if (f === 'json') out(JSON.stringify({ valid: true, identity: d.identity }));
    else out(`${c('32', 'valid')}: sub=${d.identity?.sub} provider=${d.identity?.provider} roles=${d.identity?.roles.join(',') || '-'} permissions=${d.identity?.permissions.join(',') || '-'}`);
    return 0;
  }
  const detail = d.preflight ? 'preflight' : d.detail;
  if (f === 'json') out(JSON.stringify({ valid: false, code: d.code, detail }));
  else out(`${c('31', 'invalid')}: ${d.code} ${detail}`);
  return 1;
}

/** The rate-limit fields of a decision (`RateLimit-Policy`, `RateLimit`, `Retry-After`). */
function limits(h: Record<string, string> | undefined): string {
  const entries = Object.entries(h ?? {});
  return entries.length ? ` [${entries.map(([k, v]) => `${k}: ${v}`).join('; ')}]` : '';
}

function text(d: GateDecision): string {
  if (d.preflight) return `preflight ${d.status}: answered at the edge (${Object.entries(d.headers).map(([k, v]) => `${k}: ${v}`).join('; ')})`;
  if (!d.allow) return `deny ${d.status} ${d.code}: ${d.detail}${d.retryAfter != null ? ` retry-after=${d.retryAfter}` : ''}${limits(d.responseHeaders)}`;
  const who = d.identity ? ` sub=${d.identity.sub} provider=${d.identity.provider} roles=${d.identity.roles.join(',') || '-'}` : ' anonymous';
  const shadow = d.shadow ? ` (shadow: would deny ${d.shadow.status} ${d.shadow.code}: ${d.shadow.detail})` : '';
  return `allow ${d.reason}${d.route ? ` route=${d.route}` : ''}${who}${shadow}${limits(d.responseHeaders)}`;
}

async function cmdCheck(args: string[]): Promise<number> {
  const { values } = parse(args, { config: { type: 'string' }, method: { type: 'string' }, path: { type: 'string' }, token: { type: 'string' }, 'token-env': { type: 'string' }, header: { type: 'string', multiple: true }, 'client-ip': { type: 'string' }, now: { type: 'string' } });
  const f = format(values.format);
  if (!values.config) throw new UsageError('--config is required');
  if (!values.method) throw new UsageError('--method is required');
  if (!values.path) throw new UsageError('--path is required');
  const headers: Array<[string, string]> = [];
  for (const h of (values.header as string[] | undefined) ?? []) {
    const at = h.indexOf(':');
    if (at <= 0) throw new UsageError('--header expects NAME:VALUE');
    headers.push([h.slice(0, at).trim(), h.slice(at + 1).trim()]);
  }
  let now: number | undefined;
  if (values.now !== undefined) {
    now = Number(values.now);
    if (!Number.isFinite(now) || now < 0) throw new UsageError('--now expects unix seconds');
  }
  let gate: Gate;
  try {
    const config = readFileSync(String(values.config), 'utf8');
    gate = Gate.create(config, { env: process.env, now: now === undefined ? undefined : () => now! * 1000 });
  } catch (e) {
    const msg = isAuthError(e) ? `${e.code} ${e.message}` : `cannot read config: ${(e as Error).message}`;
    if (f === 'json') out(JSON.stringify({ allow: false, status: 500, code: 'AUTH-015', error: msg }));
    else err(msg);
    return 2;
  }
  for (const w of gate.warnings) err(`WARNING: ${w}`);
  const token = values.token ?? (values['token-env'] ? readToken(undefined, values['token-env']) : undefined);
  if (token !== undefined) headers.push(['Authorization', `Bearer ${token}`]);
  let d: GateDecision;
  try {
    d = await gate.decide({ method: String(values.method), path: String(values.path), headers, clientIp: values['client-ip'] === undefined ? undefined : String(values['client-ip']) });
  } catch (e) {
    err(isAuthError(e) ? `${e.code} ${e.message}` : String((e as Error).message));
    return 2;
  }
  if (f === 'json') {
    const o: Record<string, unknown> = { allow: d.allow, status: d.status, code: d.code };
    if (d.preflight) {
      o.preflight = true;
      o.headers = d.headers;
    } else if (d.allow) {
      o.identity = d.identity;
      o.reason = d.reason;
      if (d.shadow) o.shadow = { status: d.shadow.status, code: d.shadow.code, detail: d.shadow.detail };
      o.responseHeaders = d.responseHeaders;
    } else {
      o.detail = d.detail;
      o.responseHeaders = d.responseHeaders;
      o.retryAfter = d.retryAfter;
    }
    o.route = d.route;
    out(JSON.stringify(o));
  } else {
    out(text(d));
  }
  return d.allow ? 0 : 1;
}

/** One network step of `health`. */
interface HealthStep {
  step: 'discovery' | 'jwks';
  url: string;
  ok: boolean;
  status: number | null;
  ms: number;
  cacheControl: string | null;
  age: string | null;
  expires: string | null;
  etag: string | null;
  keyCount?: number;
  kids?: string[];
  jwksUri?: string;
  error?: string;
}

/** GETs `url` (no redirects, bounded, with a timeout) and reports what a cache would see. */
async function probe(step: HealthStep['step'], url: string, timeout: number): Promise<{ r: HealthStep; body?: unknown }> {
  const r: HealthStep = { step, url, ok: false, status: null, ms: 0, cacheControl: null, age: null, expires: null, etag: null };
  process.stderr.write(c('2', `${step}: GET ${url} ...`) + '\n');
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), timeout);
  const t0 = performance.now();
  try {
    const res = await fetch(url, { headers: { accept: 'application/json' }, redirect: 'manual', signal: ctl.signal });
    r.status = res.status;
    r.cacheControl = res.headers.get('cache-control');
    r.age = res.headers.get('age');
    r.expires = res.headers.get('expires');
    r.etag = res.headers.get('etag');
    const bytes = await readBounded(res, defaultLimits().maxResponseBytes, () => new Error('response too large'), ctl.signal);
    r.ms = Math.round(performance.now() - t0);
    if (res.status !== 200) {
      r.error = `HTTP ${res.status}`;
      return { r };
    }
    let body: unknown;
    try {
      body = JSON.parse(new TextDecoder().decode(bytes));
    } catch {
      r.error = 'not JSON';
      return { r };
    }
    r.ok = true;
    return { r, body };
  } catch (e) {
    r.ms = Math.round(performance.now() - t0);
    r.error = ctl.signal.aborted ? `timeout after ${timeout} ms` : String((e as Error)?.message ?? e);
    return { r };
  } finally {
    clearTimeout(timer);
  }
}

async function cmdHealth(args: string[]): Promise<number> {
  const { entry, rest } = providerFlags(args, new Set(['--provider', '--timeout', '--format', '--help', '-h']));
  const { values } = parse(rest, { provider: { type: 'string' }, timeout: { type: 'string' } });
  const f = format(values.format);
  if (typeof values.provider !== 'string') throw new UsageError('--provider is required');
  const timeout = values.timeout === undefined ? 5000 : Number(values.timeout);
  if (!Number.isInteger(timeout) || timeout < 1 || timeout > 120_000) throw new UsageError('--timeout is 1..120000 ms');
  entry.type = values.provider;
  let gate: Gate;
  try {
    // The core resolves the provider (preset, environment) and says where its keys come from.
    gate = Gate.create({ providers: [entry], routes: [{ path: '/**' }] } as never, { env: process.env, [INSPECT_ONLY]: true } as GateOptions);
  } catch (e) {
    const m = isAuthError(e) ? `${e.code} ${e.message}` : (e as Error).message;
    if (f === 'json') out(JSON.stringify({ healthy: false, code: 'AUTH-015', error: m }));
    else err(m);
    return 2;
  }
  const report: Array<{ name: string; issuer: string | null; keys: 'remote' | 'local'; healthy: boolean; steps: HealthStep[] }> = [];
  for (const p of keyEndpoints(gate)) {
    const steps: HealthStep[] = [];
    let jwksUrl = p.jwksUrl;
    if (p.discoveryUrl) {
      const { r, body } = await probe('discovery', p.discoveryUrl, timeout);
      steps.push(r);
      if (r.ok) {
        const d = body as { issuer?: unknown; jwks_uri?: unknown } | null;
        if (!d || typeof d.jwks_uri !== 'string') {
          r.ok = false;
          r.error = 'no jwks_uri in the discovery document';
        } else if (p.issuer !== null && d.issuer !== p.issuer) {
          // The gate refuses such a document (its issuer must equal the provider's).
          r.ok = false;
          r.error = `the document's issuer ${JSON.stringify(d.issuer)} is not the provider's ${JSON.stringify(p.issuer)}`;
        } else {
          r.jwksUri = d.jwks_uri;
          jwksUrl = d.jwks_uri;
        }
      }
    }
    if (jwksUrl && steps.every((x) => x.ok)) {
      const { r, body } = await probe('jwks', jwksUrl, timeout);
      steps.push(r);
      if (r.ok) {
        const keys = (body as { keys?: unknown } | null)?.keys;
        if (!Array.isArray(keys)) {
          r.ok = false;
          r.error = 'no "keys" array';
        } else {
          r.keyCount = keys.length;
          r.kids = keys.map((k) => (k && typeof (k as { kid?: unknown }).kid === 'string' ? (k as { kid: string }).kid : '')).filter(Boolean);
          if (keys.length === 0) {
            r.ok = false;
            r.error = 'the key set is empty';
          }
        }
      }
    }
    const remote = Boolean(p.discoveryUrl || p.jwksUrl);
    report.push({ name: p.name, issuer: p.issuer, keys: remote ? 'remote' : 'local', healthy: steps.every((x) => x.ok), steps });
  }
  const healthy = report.every((p) => p.healthy);
  if (f === 'json') out(JSON.stringify({ healthy, providers: report }, null, 2));
  else {
    for (const p of report) {
      out(`${c('1', p.name)}${p.issuer ? ` (issuer ${p.issuer})` : ''}: ${p.healthy ? c('32', 'healthy') : c('31', 'unhealthy')}`);
      if (p.keys === 'local') out('  keys are in the config (secret, PEM or inline JWKS): nothing to reach');
      for (const s of p.steps) {
        const cache = [s.cacheControl && `cache-control: ${s.cacheControl}`, s.age && `age: ${s.age}`, s.expires && `expires: ${s.expires}`, s.etag && `etag: ${s.etag}`].filter(Boolean).join('; ');
        out(`  ${s.step}: ${s.url} -> ${s.status ?? '-'} in ${s.ms} ms${s.keyCount !== undefined ? `, ${s.keyCount} key(s)${s.kids?.length ? ` (${s.kids.join(', ')})` : ''}` : ''}${s.error ? ` ${c('31', s.error)}` : ''}`);
        if (cache) out(`    ${cache}`);
        else if (s.ok) out(c('33', '    no cache headers (the gate uses its default freshness)'));
      }
    }
  }
  return healthy ? 0 : 1;
}

async function cmdRatelimit(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { config: { type: 'string' }, policy: { type: 'string' }, key: { type: 'string' }, 'redis-url': { type: 'string' }, prefix: { type: 'string' }, now: { type: 'string' } });
  const f = format(values.format);
  if (positionals[0] !== 'status') throw new UsageError('usage: edgegate ratelimit status --config F --policy P --key K');
  if (!values.config) throw new UsageError('--config is required');
  if (typeof values.policy !== 'string') throw new UsageError('--policy is required');
  if (typeof values.key !== 'string' || values.key === '') throw new UsageError('--key is required (the key value: a sub, an address, an API key id ...)');
  let nowMs = Date.now();
  if (values.now !== undefined) {
    nowMs = Number(values.now) * 1000;
    if (!Number.isFinite(nowMs) || nowMs < 0) throw new UsageError('--now expects unix seconds');
  }
  const doc = readJsonFile(String(values.config));
  let gate: Gate;
  let st: ReturnType<typeof rateLimitStatus>;
  try {
    gate = Gate.create(doc as never, { env: process.env, [INSPECT_ONLY]: true } as GateOptions);
    st = rateLimitStatus(gate, values.policy, values.key, null, nowMs);
  } catch (e) {
    const m = isAuthError(e) ? `${e.code} ${e.message}` : (e as Error).message;
    if (f === 'json') out(JSON.stringify({ code: 'AUTH-015', error: m }));
    else err(m);
    return 2;
  }
  const base = { policy: st.policy, store: st.store, keyKind: st.keyKind, storeKey: st.storeKey, limit: st.limit, window: st.window };
  if (st.store !== 'redis') {
    const why =
      st.store === 'memory'
        ? 'the memory store keeps its counters inside each running gate process (per process, lost on restart): there is nothing to read from outside it'
        : `the ${st.store} store lives in the Worker; read it there (the counter's key is ${st.storeKey})`;
    if (f === 'json') out(JSON.stringify({ ...base, meaningful: false, reason: why }));
    else out(`${st.policy}: ${st.limit} per ${st.window}s, store ${st.store}: not meaningful from here: ${why}`);
    return 0;
  }
  const url = typeof values['redis-url'] === 'string' ? values['redis-url'] : process.env.REDIS_URL;
  if (!url) throw new UsageError('the policy uses Redis: pass --redis-url URL (or set REDIS_URL)');
  const store = createRedisStore({ url, prefix: typeof values.prefix === 'string' ? values.prefix : undefined });
  let raw: string | null;
  process.stderr.write(c('2', `reading ${st.storeKey} from Redis ...`) + '\n');
  try {
    raw = (await store.rateLimit.load(st.storeKey)) as string | null;
  } catch (e) {
    err(`redis: ${(e as Error)?.message ?? e}`);
    return 2;
  } finally {
    await store.close();
  }
  const now = rateLimitStatus(gate, values.policy, values.key, raw, nowMs);
  const o = { ...base, meaningful: true, state: now.state, remaining: now.remaining, resetMs: now.resetMs, raw };
  if (f === 'json') out(JSON.stringify(o));
  else {
    out(`${st.policy} (${st.keyKind} ${JSON.stringify(values.key)}): ${st.limit} per ${st.window}s, store redis, key ${st.storeKey}`);
    if (now.state === 'absent') out(`  no counter: the full quota (${now.remaining}) is available`);
    else if (now.state === 'malformed') out(c('31', '  the stored value is not a state the gate accepts (it treats it as a store error)'));
    else out(`  remaining ${now.remaining} of ${now.limit}; full again in ${Math.ceil(now.resetMs / 1000)}s`);
  }
  return 0;
}

function cmdConfig(args: string[]): number {
  const { values, positionals } = parse(args, {});
  const f = format(values.format);
  if (positionals[0] !== 'validate' || !positionals[1]) throw new UsageError('usage: edgegate config validate FILE');
  const file = positionals[1];
  let doc: unknown;
  try {
    doc = readJsonFile(file);
  } catch (e) {
    const j = (e as { json?: string }).json;
    if (j === undefined) throw e;
    if (f === 'json') out(JSON.stringify({ valid: false, errors: [{ path: '', message: j }] }));
    else out(`${c('31', 'invalid')}: ${file}: ${j}`);
    return 1;
  }
  try {
    const g = Gate.create(doc as never, { env: process.env });
    if (f === 'json') out(JSON.stringify({ valid: true, warnings: g.warnings }));
    else {
      out(`${c('32', 'valid')}: ${file}`);
      for (const w of g.warnings) out(c('33', `warning: ${w}`));
    }
    return 0;
  } catch (e) {
    if (!isAuthError(e)) throw e;
    const path = e.reason ?? '';
    if (f === 'json') out(JSON.stringify({ valid: false, errors: [{ path, code: e.code, message: e.message }] }));
    else out(`${c('31', 'invalid')}: ${path ? `${path}: ` : ''}${e.message}`);
    return 1;
  }
}

interface FileStore {
  keys: ApiKeyRecord[];
}

function loadStore(file: string): FileStore {
  if (!existsSync(file)) return { keys: [] };
  const s = readJsonFile(file) as FileStore;
  if (!s || !Array.isArray(s.keys)) throw new UsageError(`${file}: expected {"keys": [...]}`);
  return s;
}

function cmdApikey(args: string[]): number {
  const { values, positionals } = parse(args, { store: { type: 'string' }, account: { type: 'string' }, name: { type: 'string' }, role: { type: 'string', multiple: true }, permission: { type: 'string', multiple: true }, days: { type: 'string' }, namespace: { type: 'string' }, binding: { type: 'string' }, overlap: { type: 'string' } });
  const f = format(values.format);
  const sub = positionals[0];
  if (!values.store) throw new UsageError('--store FILE is required');
  const file = String(values.store);
  const store = loadStore(file);
  const save = () => writeFileSync(file, JSON.stringify(store, null, 2) + '\n', { mode: 0o600 });
  // The Worker's KV layout (docs/worker.md): the record under `apikey:<id>`.
  const binding = String(values.binding ?? values.namespace ?? 'EDGEGATE_KV');
  const wrangler = (r: ApiKeyRecord) => `wrangler kv key put --binding=${binding} ${JSON.stringify(`apikey:${r.id}`)} '${JSON.stringify(r)}'`;
  const days = () => {
    const d = values.days === undefined ? 90 : Number(values.days);
    if (!Number.isInteger(d) || d < 1 || d > 365) throw new UsageError('--days is 1..365');
    return d;
  };
  switch (sub) {
    case 'create': {
      if (!values.account) throw new UsageError('--account is required');
      const created = createApiKey({ account: String(values.account), name: values.name as string | undefined, roles: (values.role as string[] | undefined) ?? [], permissions: (values.permission as string[] | undefined) ?? [], expiresAt: Math.floor(Date.now() / 1000) + days() * 86400 });
      store.keys.push(created.record);
      save();
      const wr = wrangler(created.record);
      if (f === 'json') out(JSON.stringify({ key: created.key, record: created.record, wrangler: wr }));
      else {
        out(`key (shown once): ${c('1', created.key)}`);
        out(`id: ${created.record.id}  expires: ${new Date(created.record.expiresAt * 1000).toISOString()}`);
        out(`for the Worker's KV: ${wr}`);
      }
      return 0;
    }
    case 'rotate': {
      const id = positionals[1];
      if (!id) throw new UsageError('usage: edgegate apikey rotate KEY_ID --store FILE [--days D] [--overlap SECONDS]');
      let overlap = 0;
      if (values.overlap !== undefined) {
        overlap = Number(values.overlap);
        if (!Number.isInteger(overlap) || overlap < 0 || overlap > 30 * 86400) throw new UsageError('--overlap is 0..2592000 seconds');
      }
      const old = store.keys.find((x) => x.id === id);
      const now = Math.floor(Date.now() / 1000);
      if (!old || old.revoked || old.expiresAt <= now) {
        err(`no active key ${JSON.stringify(id)} in ${file}`);
        return 1;
      }
      const created = createApiKey({ account: old.account, name: old.name, roles: [...old.roles], permissions: [...old.permissions], expiresAt: now + days() * 86400 });
      // The old key stops at once, or after the overlap (never later than it would have).
      if (overlap === 0) old.revoked = true;
      else old.expiresAt = Math.min(old.expiresAt, now + overlap);
      store.keys.push(created.record);
      save();
      const lines = [wrangler(created.record), wrangler(old)];
      if (f === 'json') out(JSON.stringify({ key: created.key, record: created.record, replaced: { id: old.id, revoked: old.revoked, expiresAt: old.expiresAt }, wrangler: lines }));
      else {
        out(`new key (shown once): ${c('1', created.key)}`);
        out(`id: ${created.record.id}  expires: ${new Date(created.record.expiresAt * 1000).toISOString()}`);
        out(overlap === 0 ? `old key ${old.id}: revoked` : `old key ${old.id}: works until ${new Date(old.expiresAt * 1000).toISOString()}`);
        out("for the Worker's KV:");
        for (const l of lines) out(`  ${l}`);
      }
      return 0;
    }
    case 'list': {
      if (f === 'json') out(JSON.stringify(store.keys.map(({ hash: _h, ...r }) => r)));
      else for (const k of store.keys) out(`${k.id}  ${k.account}  ${k.name || '-'}  roles=${k.roles.join(',') || '-'}  ${k.revoked ? 'revoked' : new Date(k.expiresAt * 1000).toISOString()}`);
      return 0;
    }
    case 'revoke': {
      const id = positionals[1];
      if (!id) throw new UsageError('usage: edgegate apikey revoke KEY_ID --store FILE');
      const k = store.keys.find((x) => x.id === id);
      if (!k) {
        err(`no key ${JSON.stringify(id)} in ${file}`);
        return 1;
      }
      k.revoked = true;
      save();
      out(f === 'json' ? JSON.stringify({ revoked: id }) : `revoked ${id}`);
      return 0;
    }
    default:
      throw new UsageError('usage: edgegate apikey create|rotate|list|revoke ... --store FILE');
  }
}

async function cmdUsers(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { 'require-enabled': { type: 'boolean' }, timeout: { type: 'string' } });
  const f = format(values.format);
  if (positionals[0] !== 'get' || positionals[1] === undefined || positionals.length > 2) throw new UsageError('usage: edgegate users get USER_ID [--require-enabled] [--format text|json]');
  const id = positionals[1];
  let timeoutMs: number | undefined;
  if (values.timeout !== undefined) {
    timeoutMs = Number(values.timeout);
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 120000) throw new UsageError('--timeout is 1..120000 ms');
  }
  const fail = (code: string, message: string, exit: number) => {
    if (f === 'json') out(JSON.stringify({ found: false, code, error: message }));
    else err(`${code} ${message}`);
    return exit;
  };
  let client: ReturnType<typeof createAdminClientFromEnv>;
  try {
    client = createAdminClientFromEnv(process.env, { timeoutMs, maxCacheEntries: 0 });
  } catch (e) {
    if (!isAuthError(e)) throw e;
    return fail(e.code, e.message, 2);
  }
  process.stderr.write(c('2', `looking up the user in the ${client.provider === 'keycloak' ? 'Keycloak Admin API' : 'Auth0 Management API'} ...`) + '\n');
  try {
    const u = await client.getUser(id, { requireEnabled: values['require-enabled'] === true });
    if (f === 'json') out(JSON.stringify({ found: true, user: u }));
    else {
      out(`${c('1', u.id)} (${u.provider})`);
      out(`  email: ${u.email ?? '-'}${u.email ? (u.emailVerified ? ' (verified)' : ' (not verified)') : ''}`);
      out(`  name: ${u.name ?? '-'}  username: ${u.username ?? '-'}`);
      if (u.picture) out(`  picture: ${u.picture}`);
      out(`  enabled: ${u.enabled ? c('32', 'yes') : c('31', 'no')}`);
    }
    return 0;
  } catch (e) {
    if (!isAuthError(e)) throw e;
    return fail(e.code, e.message, e.code === 'AUTH-017' || e.code === 'AUTH-018' ? 1 : 2);
  }
}

function cmdToken(args: string[]): number {
  const { values, positionals } = parse(args, { sub: { type: 'string' }, issuer: { type: 'string' }, audience: { type: 'string' }, role: { type: 'string', multiple: true }, permission: { type: 'string', multiple: true }, expires: { type: 'string' }, 'secret-env': { type: 'string' } });
  if (positionals[0] !== 'sign') throw new UsageError('usage: edgegate token sign --sub S --issuer I ...');
  if (process.env.NODE_ENV === 'production') {
    err('token sign is for development only (NODE_ENV=production)');
    return 2;
  }
  if (!values.sub || !values.issuer) throw new UsageError('--sub and --issuer are required');
  const envName = String(values['secret-env'] ?? 'JWT_SECRET');
  const secret = process.env[envName];
  if (!secret || secret.length < 32) throw new UsageError(`${envName}: set it to an HS256 secret of at least 32 bytes`);
  const ttl = values.expires === undefined ? 600 : Number(values.expires);
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > 86400) throw new UsageError('--expires is 1..86400 seconds');
  const now = Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = { sub: values.sub, iss: values.issuer, iat: now, exp: now + ttl };
  if (values.audience) claims.aud = values.audience;
  if (values.role) claims.roles = values.role;
  if (values.permission) claims.permissions = values.permission;
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}`;
  out(`${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`);
  process.stderr.write(c('33', 'development token: never use one in production') + '\n');
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    if (cmd === '--version' || cmd === '-v') {
      out(VERSION);
      return 0;
    }
    if (cmd === '--help' || cmd === '-h' || cmd === 'help') {
      out(HELP);
      return 0;
    }
    if (rest.includes('--help') || rest.includes('-h')) {
      out(HELP);
      return 0;
    }
    switch (cmd) {
      case 'providers':
        return cmdProviders(rest);
      case 'inspect':
        return cmdInspect(rest);
      case 'validate':
        return await cmdValidate(rest);
      case 'check':
        return await cmdCheck(rest);
      case 'health':
        return await cmdHealth(rest);
      case 'ratelimit':
        return await cmdRatelimit(rest);
      case 'config':
        return cmdConfig(rest);
      case 'apikey':
        return cmdApikey(rest);
      case 'users':
        return await cmdUsers(rest);
      case 'token':
        return cmdToken(rest);
      default:
        throw new UsageError(cmd === undefined ? 'missing command' : `unknown command ${JSON.stringify(cmd)}`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      err(`${e.message}\n(edgegate --help lists the commands)`);
      return 2;
    }
    if (isAuthError(e)) {
      err(`${e.code} ${e.message}`);
      return 1;
    }
    throw e;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    err(String((e as Error)?.message ?? e));
    process.exitCode = 2;
  },
);
