/**
 * Node's fast lane into the core's `verify` (the wasm `VerifyLane`): the token is written
 * into wasm memory with `Buffer#utf8Write` (native) and the result read where the core left
 * it, instead of wasm-bindgen's copies (a JS loop over the token's characters, a malloc and
 * a free per call, a new `Int32Array` for every result). The same core call, the same
 * checks: only the copying differs. A passing result is answered with one shared array
 * (callers read its status only); any other result is copied out before anything else can
 * run in wasm (a later call may grow the memory and detach a view).
 */
import { Buffer } from 'node:buffer';
import { R_HEAD, R_NCAND, R_STATUS, ST_OK } from './abi.generated.js';
import type { Binding, KeySetHandle, OptionsHandle } from './binding.js';

interface LaneHandle {
  reserve(n: number): number;
  verify(len: number, keys: KeySetHandle, options: OptionsHandle, now: number, flags: number): number;
}

/** The part of the verify-only wasm's exports this needs. */
export interface LaneBinding extends Binding {
  VerifyLane: new () => LaneHandle;
}

/** Longer tokens (UTF-16 units) take the copying path (the core refuses them anyway). */
export const LANE_MAX_CHARS = 65536;

type Utf8Write = (this: Buffer, s: string, offset: number, length: number) => number;

/** `binding` with `verify` going through one `VerifyLane` over `memory`. */
export function withVerifyLane(binding: LaneBinding, memory: WebAssembly.Memory): Binding {
  const lane = new binding.VerifyLane();
  const native = (Buffer.prototype as unknown as { utf8Write?: Utf8Write }).utf8Write;
  const write: Utf8Write = native ?? function (this: Buffer, s, offset, length) {
    return this.write(s, offset, length, 'utf8');
  };
  const OK = new Int32Array(R_HEAD);
  OK[R_STATUS] = ST_OK;
  let cap = 0;
  let at = 0;
  let buf = Buffer.from(memory.buffer);
  let i32 = new Int32Array(memory.buffer);
  const fresh = (): void => {
    if (i32.buffer !== memory.buffer) {
      buf = Buffer.from(memory.buffer);
      i32 = new Int32Array(memory.buffer);
    }
  };
  const verify = (token: string, keys: KeySetHandle, options: OptionsHandle, now: number, flags: number): Int32Array => {
    if (typeof token !== 'string' || token.length > LANE_MAX_CHARS) return binding.verify(token, keys, options, now, flags);
    // UTF-8 needs at most 3 bytes per UTF-16 unit (a lone surrogate becomes U+FFFD, as
    // with TextEncoder): the whole token always fits.
    const need = token.length * 3;
    if (need > cap) {
      at = lane.reserve(need);
      cap = need;
    }
    fresh();
    const len = write.call(buf, token, at, need);
    const p = lane.verify(len, keys, options, now, flags) >>> 2;
    fresh();
    if (i32[p + R_STATUS] === ST_OK) {
      OK.fill(0);
      OK[R_STATUS] = ST_OK;
      return OK;
    }
    return i32.slice(p, p + R_HEAD + Math.max(0, i32[p + R_NCAND]));
  };
  return { ...binding, verify };
}
