#!/usr/bin/env bash
# Builds the npm package: wasm (full + verify-only + inspect-only) -> wasm-bindgen -> TypeScript, into
# pkg-js/dist/. Idempotent (cargo and tsc are incremental; wasm-bindgen reruns only when the
# wasm changed). `--pack [DIR]` also runs `npm pack` into DIR (default pkg-js/test/.scratch).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)
log() { printf '[build-js] %s\n' "$*" >&2; }

pack=0
pack_dir="$root/pkg-js/test/.scratch"
while [ $# -gt 0 ]; do
  case "$1" in
    --pack) pack=1; if [ $# -gt 1 ] && [ "${2#--}" = "$2" ]; then pack_dir=$2; shift; fi ;;
    *) echo "usage: $0 [--pack [DIR]]" >&2; exit 2 ;;
  esac
  shift
done

command -v wasm-bindgen >/dev/null || { echo "wasm-bindgen CLI missing (scripts/setup.sh installs it)" >&2; exit 1; }
[ -x node_modules/.bin/tsc ] || { log "npm ci"; npm ci --no-audit --no-fund --loglevel=error >&2; }

out=target/js
mkdir -p "$out"

# bindgen WASM_IN TARGET OUTDIR: reruns wasm-bindgen only if the input changed.
bindgen() {
  local in=$1 tgt=$2 dir=$3
  local stamp="$dir/.stamp"
  local sum
  sum="$(sha256sum "$in" | cut -d' ' -f1) $tgt $(wasm-bindgen --version) strip"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sum" ] && [ -f "$dir/edgegate.js" ]; then return 0; fi
  rm -rf "$dir"; mkdir -p "$dir"
  # No name/producers sections: ~30 KB less per wasm, nothing a user needs.
  wasm-bindgen --target "$tgt" --out-dir "$dir" --out-name edgegate --remove-name-section --remove-producers-section "$in"
  echo "$sum" > "$stamp"
}

# 1. Full bindings.
log "cargo build (wasm, full)"
cargo build --lib --target wasm32-unknown-unknown --release --features wasm --quiet
cp target/wasm32-unknown-unknown/release/edgegate.wasm "$out/edgegate_full.wasm"
# 2. Inspection only (the small `edgegate/browser` build); own target dir so the two
#    feature sets do not evict each other.
log "cargo build (wasm, inspect-only)"
cargo build --lib --target wasm32-unknown-unknown --release --no-default-features --features wasm-inspect --target-dir target/wasm-inspect --quiet
cp target/wasm-inspect/wasm32-unknown-unknown/release/edgegate.wasm "$out/edgegate_inspect.wasm"

# 3. Inspection + verification, no gate (what `import('edgegate')` compiles in Node: a smaller
#    wasm is a faster cold import; the Node ESM entry loads the full nodejs build the first
#    time the gate is used).
log "cargo build (wasm, verify-only)"
#    Built at opt-level 3 (the rest of the release profile is "s"): this is the wasm every
#    Node ESM `jwtVerify` runs; measured (benches, CPU time) ~1 us less per HS256 verify
#    (~15%), for +43 KB gzip and ~1.5 ms more CPU at a cold import. The browser build stays "s".
CARGO_PROFILE_RELEASE_OPT_LEVEL=3 cargo build --lib --target wasm32-unknown-unknown --release --no-default-features --features wasm-verify --target-dir target/wasm-verify --quiet
cp target/wasm-verify/wasm32-unknown-unknown/release/edgegate.wasm "$out/edgegate_verify.wasm"

log "wasm-bindgen"
bindgen "$out/edgegate_full.wasm" nodejs pkg-js/wasm/nodejs
bindgen "$out/edgegate_full.wasm" web pkg-js/wasm/web
bindgen "$out/edgegate_verify.wasm" web pkg-js/wasm/node
bindgen "$out/edgegate_inspect.wasm" web pkg-js/wasm/inspect

# 4. TypeScript: ESM (+ declarations) and CJS.
# The ABI facts shared with Rust (error codes, algorithms, result slots, defaults, limits) are
# generated from the core (src/abi.rs) into pkg-js/src/abi.generated.ts; the drift test fails
# when the committed file is stale, this regenerates it.
log "abi.generated.ts"
EDGEGATE_BLESS=1 cargo test -q --test abi_drift >&2
# The `GateConfig` TypeScript type, generated from the JSON Schema (schema/config.schema.json).
log "config.generated.ts"
node scripts/gen-config-type.mjs
log "tsc"
rm -rf pkg-js/dist
node_modules/.bin/tsc -p pkg-js/tsconfig.esm.json
node_modules/.bin/tsc -p pkg-js/tsconfig.cjs.json

# 5. Assemble dist/: wasm next to the JS, module type markers, the Node ESM wrapper.
mkdir -p pkg-js/dist/wasm
for d in nodejs web node inspect; do
  mkdir -p "pkg-js/dist/wasm/$d"
  cp pkg-js/wasm/$d/edgegate.js pkg-js/wasm/$d/edgegate.d.ts pkg-js/wasm/$d/edgegate_bg.wasm "pkg-js/dist/wasm/$d/"
done
# The Node ESM entry as one file (its wasm glue and the API modules inlined): loading ten ES
# modules costs ~4 ms more CPU than one at `import('edgegate')`. The wasm stays a file next
# to it (read relative to the entry's URL, so the paths do not change). The other entries
# (web, workerd, browser) stay unbundled: their users' bundlers do that.
node_modules/.bin/esbuild pkg-js/dist/esm/node-esm.js --bundle --external:redis --format=esm --platform=node --target=node20 --log-level=warning --outfile=pkg-js/dist/esm/node-esm.bundle.js
mv -f pkg-js/dist/esm/node-esm.bundle.js pkg-js/dist/esm/node-esm.js
# The gate config's JSON Schema (schema/config.schema.json), as `edgegate/config.schema.json`.
cp schema/config.schema.json pkg-js/dist/config.schema.json
echo '{"type":"commonjs"}' > pkg-js/dist/cjs/package.json
echo '{"type":"commonjs"}' > pkg-js/dist/wasm/nodejs/package.json
echo '{"type":"module"}' > pkg-js/dist/esm/package.json
echo '{"type":"module"}' > pkg-js/dist/wasm/web/package.json
echo '{"type":"module"}' > pkg-js/dist/wasm/node/package.json
echo '{"type":"module"}' > pkg-js/dist/wasm/inspect/package.json
rm -f pkg-js/dist/types/node-esm.d.ts
# Node CommonJS entry: the ESM build itself where Node can require() ES modules (>= 20.19),
# so ESM and CJS users in one process share one instance; else the CommonJS build.
cat > pkg-js/dist/cjs/entry.js <<'JS'
'use strict';
// Generated by scripts/build-js.sh. Node CommonJS entry (see package.json "exports").
let m;
try {
  m = require('../esm/node-esm.js');
} catch (e) {
  if (!e || (e.code !== 'ERR_REQUIRE_ESM' && e.code !== 'ERR_REQUIRE_ASYNC_MODULE')) throw e;
  m = require('./node.js');
}
module.exports = m;
JS
rm -f pkg-js/dist/types/node.d.ts
# Declarations for CommonJS users (`require('edgegate')` from TypeScript): same files, CJS scope.
mkdir -p pkg-js/dist/types-cjs
cp pkg-js/dist/types/*.d.ts pkg-js/dist/types-cjs/
echo '{"type":"module"}' > pkg-js/dist/types/package.json
echo '{"type":"commonjs"}' > pkg-js/dist/types-cjs/package.json

if [ "$pack" = 1 ]; then
  mkdir -p "$pack_dir"
  rm -f "$pack_dir"/edgegate-*.tgz
  log "npm pack -> $pack_dir"
  npm pack --silent --pack-destination "$pack_dir" >/dev/null
fi
log "done: $(du -sh pkg-js/dist | cut -f1) in pkg-js/dist"
