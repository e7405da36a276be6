/** Verify options: jose's option shapes, normalized once and compiled into a wasm handle. */
import { ConfigError, fromCore } from './errors.js';
import { w, type OptionsHandle } from './binding.js';

/** Options of `compactVerify` (jose's `VerifyOptions`). */
export interface VerifyOptions {
  /** Allowed algorithms (default: every algorithm the key allows; never `none`). */
  algorithms?: string[];
  /** Critical header parameters the caller understands (jose's `crit`). */
  crit?: Record<string, boolean>;
  /** `'native'` (default): node:crypto / WebCrypto checks RSA/ECDSA/EdDSA signatures; `'wasm'`: the pure-Rust backend does everything. */
  backend?: 'native' | 'wasm';
  /** Largest token accepted, in bytes (default 16 KiB). */
  maxTokenBytes?: number;
}

/** Options of `jwtVerify` (jose's `JWTVerifyOptions`, plus `cache`). */
export interface JWTVerifyOptions extends VerifyOptions {
  issuer?: string | string[];
  audience?: string | string[];
  subject?: string;
  /** Leeway for `exp`/`nbf`/`iat`: seconds, or a duration string (`"30s"`, `"5 minutes"`). */
  clockTolerance?: string | number;
  /** Maximum age since `iat`: seconds or a duration string. */
  maxTokenAge?: string | number;
  requiredClaims?: string[];
  typ?: string;
  /** The instant to verify at (default: now). */
  currentDate?: Date;
  /**
   * Opt-in cache of verified tokens: a bounded LRU keyed by the full token, the key set
   * and these options. On every hit the core re-runs the claim checks at `currentDate`
   * (`exp`, `nbf`, `maxTokenAge`): a hit is never served where a fresh check would fail.
   * Tokens without `exp` are not cached; an entry never outlives the key set that
   * verified it. Cached results are frozen.
   */
  cache?: { max: number };
}

/* ------------------------------------------------------------------ durations */

const UNITS: Record<string, number> = {
  s: 1, sec: 1, secs: 1, second: 1, seconds: 1,
  m: 60, min: 60, mins: 60, minute: 60, minutes: 60,
  h: 3600, hr: 3600, hrs: 3600, hour: 3600, hours: 3600,
  d: 86400, day: 86400, days: 86400,
  w: 604800, week: 604800, weeks: 604800,
  y: 31557600, yr: 31557600, yrs: 31557600, year: 31557600, years: 31557600,
};

/** Seconds from a number or a jose-style duration string (`"30s"`, `"2 hours"`). */
export function secs(v: string | number, field = 'duration'): number {
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || v < 0) throw new ConfigError(`options.${field}: expected a non-negative number of seconds`);
    return Math.floor(v);
  }
  const m = /^(\d+|\d+\.\d+) ?([a-z]+)$/i.exec(String(v).trim());
  const unit = m && UNITS[m[2].toLowerCase()];
  if (!m || !unit) throw new ConfigError(`options.${field}: invalid duration`);
  return Math.round(parseFloat(m[1]) * unit);
}

/* ------------------------------------------------------------------ options */

/** @internal */
export interface CompiledOptions {
  handle: OptionsHandle;
  key: string;
  /** The option values this was compiled from (compared on reuse). */
  src?: OptionFields;
}

/** The fields of `JWTVerifyOptions` that reach the core, as read from the caller's object. */
type OptionFields = [unknown, unknown, unknown, unknown, unknown, unknown, unknown, unknown, unknown, unknown];

function fieldsOf(o: JWTVerifyOptions): OptionFields {
  return [o.algorithms, o.issuer, o.audience, o.requiredClaims, o.crit, o.clockTolerance, o.subject, o.maxTokenAge, o.typ, o.maxTokenBytes];
}

/** A shallow copy of an array option, so a later change to the caller's array is seen. */
function snap(v: unknown): unknown {
  return Array.isArray(v) ? v.slice() : v && typeof v === 'object' ? { ...v } : v;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return typeof a !== 'object' || a === null;
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    for (const k of ka) if ((a as Record<string, unknown>)[k] !== (b as Record<string, unknown>)[k]) return false;
    return true;
  }
  return false;
}

/** Whether `o` holds the same option values `c` was compiled from. */
function sameOptions(c: CompiledOptions, o: JWTVerifyOptions): boolean {
  const s = c.src;
  if (!s) return false;
  return (
    sameValue(s[0], o.algorithms) &&
    sameValue(s[1], o.issuer) &&
    sameValue(s[2], o.audience) &&
    sameValue(s[3], o.requiredClaims) &&
    sameValue(s[4], o.crit) &&
    s[5] === o.clockTolerance &&
    s[6] === o.subject &&
    s[7] === o.maxTokenAge &&
    s[8] === o.typ &&
    s[9] === o.maxTokenBytes
  );
}

const optionsByObject = new WeakMap<object, CompiledOptions>();
const optionsByText = new Map<string, CompiledOptions>();
const OPTIONS_TEXT_MAX = 256;
/** The last options compiled or reused: options written inline (a new object per call,
 * `jwtVerify(t, k, { issuer, audience })`) with the same values reuse it without a WeakMap
 * entry per call. */
let lastOptions: CompiledOptions | undefined;
/** @internal */
export const EMPTY_OPTIONS: JWTVerifyOptions = {};

function list(v: string | string[] | undefined, field: string): string[] {
  if (v === undefined) return [];
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v;
  throw new ConfigError(`options.${field}: expected a string or an array of strings`);
}

/** @internal */
export function compileOptions(o: JWTVerifyOptions): CompiledOptions {
  // Reuse is checked against the values compiled (a cached entry never outlives a change
  // to the caller's options object): per object first, then the last options used.
  const hit = optionsByObject.get(o);
  if (hit !== undefined && sameOptions(hit, o)) return (lastOptions = hit);
  if (lastOptions !== undefined && sameOptions(lastOptions, o)) return lastOptions;
  const crit = o.crit ? Object.keys(o.crit).filter((k) => o.crit![k]) : [];
  const norm: Record<string, unknown> = {
    algorithms: o.algorithms ?? [],
    issuer: list(o.issuer, 'issuer'),
    audience: list(o.audience, 'audience'),
    requiredClaims: o.requiredClaims ?? [],
    crit,
    clockTolerance: o.clockTolerance === undefined ? 0 : secs(o.clockTolerance, 'clockTolerance'),
  };
  if (o.subject !== undefined) norm.subject = o.subject;
  if (o.maxTokenAge !== undefined) norm.maxTokenAge = secs(o.maxTokenAge, 'maxTokenAge');
  if (o.typ !== undefined) norm.typ = o.typ;
  if (o.maxTokenBytes !== undefined) norm.maxTokenBytes = o.maxTokenBytes;
  const text = JSON.stringify(norm);
  let c = optionsByText.get(text);
  if (!c) {
    let handle: OptionsHandle;
    try {
      handle = new (w().Options)(text);
    } catch (e) {
      throw fromCore(e, 'AUTH-015');
    }
    c = { handle, key: text, src: undefined };
    if (optionsByText.size >= OPTIONS_TEXT_MAX) {
      const first = optionsByText.keys().next().value;
      if (first !== undefined) optionsByText.delete(first);
    }
    optionsByText.set(text, c);
  }
  // One compiled entry per distinct values; `src` (a copy) is what reuse compares against.
  const src = fieldsOf(o).map(snap) as OptionFields;
  const compiled: CompiledOptions = c.src === undefined ? Object.assign(c, { src }) : { handle: c.handle, key: c.key, src };
  optionsByObject.set(o, compiled);
  return (lastOptions = compiled);
}
