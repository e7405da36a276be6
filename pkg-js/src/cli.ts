#!/usr/bin/env node
/**
 * `edgegate check --config F --method M --path P [--token T] [--header K:V]... [--client-ip IP] [--format json] [--now SECONDS]`
 *
 * Prints the gate's decision for one request. Exit 0: allowed; 1: denied; 2: usage or
 * configuration error. Environment variables (`JWT_SECRET`, `AUTH_ENABLED`, ...) come from
 * the process environment. Remote JWKS / discovery are fetched as the core asks.
 */
import { readFileSync } from 'node:fs';
import { Gate, isAuthError, type GateDecision } from './node.js';

const USAGE = `usage: edgegate check --config FILE --method METHOD --path PATH [--token TOKEN]
                      [--header NAME:VALUE]... [--client-ip IP] [--format text|json] [--now UNIX_SECONDS]`;

class UsageError extends Error {}

interface Args {
  config: string;
  method: string;
  path: string;
  token?: string;
  headers: Array<[string, string]>;
  clientIp?: string;
  format: 'text' | 'json';
  now?: number;
}

function parse(argv: string[]): Args {
  if (argv[0] !== 'check') throw new UsageError(argv.length ? `unknown command ${JSON.stringify(argv[0])}` : 'missing command');
  const a: Partial<Args> & { headers: Array<[string, string]> } = { headers: [], format: 'text' };
  for (let i = 1; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (value === undefined) throw new UsageError(`${flag} needs a value`);
    i++;
    switch (flag) {
      case '--config':
        a.config = value;
        break;
      case '--method':
        a.method = value;
        break;
      case '--path':
        a.path = value;
        break;
      case '--token':
        a.token = value;
        break;
      case '--header': {
        const at = value.indexOf(':');
        if (at <= 0) throw new UsageError('--header expects NAME:VALUE');
        a.headers.push([value.slice(0, at).trim(), value.slice(at + 1).trim()]);
        break;
      }
      case '--client-ip':
        a.clientIp = value;
        break;
      case '--format':
        if (value !== 'json' && value !== 'text') throw new UsageError('--format is text or json');
        a.format = value;
        break;
      case '--now': {
        const n = Number(value);
        if (!Number.isFinite(n) || n < 0) throw new UsageError('--now expects unix seconds');
        a.now = n;
        break;
      }
      default:
        throw new UsageError(`unknown option ${flag}`);
    }
  }
  if (!a.config) throw new UsageError('--config is required');
  if (!a.method) throw new UsageError('--method is required');
  if (!a.path) throw new UsageError('--path is required');
  return a as Args;
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

async function main(argv: string[]): Promise<number> {
  let args: Args;
  try {
    args = parse(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`edgegate: ${e.message}\n${USAGE}\n`);
      return 2;
    }
    throw e;
  }
  let gate: Gate;
  try {
    const config = readFileSync(args.config, 'utf8');
    const now = args.now;
    gate = Gate.create(config, { env: process.env, now: now === undefined ? undefined : () => now * 1000 });
  } catch (e) {
    const msg = isAuthError(e) ? `${e.code} ${e.message}` : `cannot read config: ${(e as Error).message}`;
    if (args.format === 'json') process.stdout.write(JSON.stringify({ allow: false, status: 500, code: 'AUTH-015', error: msg }) + '\n');
    else process.stderr.write(`edgegate: ${msg}\n`);
    return 2;
  }
  for (const w of gate.warnings) process.stderr.write(`edgegate: WARNING: ${w}\n`);
  const headers = [...args.headers];
  if (args.token !== undefined) headers.push(['Authorization', `Bearer ${args.token}`]);
  let d: GateDecision;
  try {
    d = await gate.decide({ method: args.method, path: args.path, headers, clientIp: args.clientIp });
  } catch (e) {
    const msg = isAuthError(e) ? `${e.code} ${e.message}` : String((e as Error).message);
    process.stderr.write(`edgegate: ${msg}\n`);
    return 2;
  }
  if (args.format === 'json') {
    const out: Record<string, unknown> = { allow: d.allow, status: d.status, code: d.code };
    if (d.preflight) {
      out.preflight = true;
      out.headers = d.headers;
    } else if (d.allow) {
      out.identity = d.identity;
      out.reason = d.reason;
      if (d.shadow) out.shadow = { status: d.shadow.status, code: d.shadow.code, detail: d.shadow.detail };
      out.responseHeaders = d.responseHeaders;
    } else {
      out.detail = d.detail;
      out.responseHeaders = d.responseHeaders;
      out.retryAfter = d.retryAfter;
    }
    out.route = d.route;
    process.stdout.write(JSON.stringify(out) + '\n');
  } else {
    process.stdout.write(text(d) + '\n');
  }
  return d.allow ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`edgegate: ${(e as Error)?.message ?? e}\n`);
    process.exitCode = 2;
  },
);
