#!/usr/bin/env bash
# Builds the Rust Cloudflare Worker (src/worker/, the crate's `worker` feature) into build/
# (build/index.js + build/index_bg.wasm, the module wrangler.toml's `main` names) with
# worker-build, offline: wasm-bindgen, esbuild and wasm-opt come from this machine (worker-build
# downloads them otherwise). Run by wrangler ([build] in wrangler.toml), scripts/setup.sh and
# the end-to-end test. Skips the build when build/ is newer than every input.
# `--force` rebuilds; `--no-opt` skips wasm-opt.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)
log() { printf '[build-worker] %s\n' "$*" >&2; }

force=0
extra=()
for a in "$@"; do
  case "$a" in
    --force) force=1 ;;
    --no-opt) extra+=(--no-opt) ;;
    *) log "unknown argument $a"; exit 2 ;;
  esac
done

out="$root/build/index.js"
if [ "$force" = 0 ] && [ -f "$out" ] && [ -f "$root/build/index_bg.wasm" ]; then
  newer=$(find "$root/src" "$root/Cargo.toml" "$root/Cargo.lock" "$root/scripts/build-worker.sh" -newer "$out" -type f -print -quit)
  if [ -z "$newer" ]; then
    log "up to date ($out)"
    exit 0
  fi
fi

# worker-build itself, the version that matches the `worker` crate in Cargo.lock.
want=$(awk '/^name = "worker"$/{getline; gsub(/version = |"/,""); print; exit}' Cargo.lock)
have=$(worker-build --version 2>/dev/null || true)
if [ -n "$want" ] && [ "$have" != "$want" ]; then
  log "cargo install worker-build --version $want (a few minutes, once)"
  cargo install worker-build --version "$want" >&2
fi

export WASM_BINDGEN_BIN="${WASM_BINDGEN_BIN:-$(command -v wasm-bindgen || true)}"
export ESBUILD_BIN="${ESBUILD_BIN:-$root/node_modules/@esbuild/linux-x64/bin/esbuild}"
export WASM_OPT_BIN="${WASM_OPT_BIN:-$root/node_modules/.bin/wasm-opt}"
for v in WASM_BINDGEN_BIN ESBUILD_BIN WASM_OPT_BIN; do
  if [ -z "${!v}" ] || [ ! -x "${!v}" ]; then
    log "$v=${!v} is not an executable (run scripts/setup.sh)"
    exit 1
  fi
done

# The output gets the time the build started, so sources edited during the build count
# as newer next time.
stamp=$(mktemp)
trap 'rm -f "$stamp"' EXIT
log "worker-build --release --features worker"
worker-build --release "${extra[@]}" --features worker >&2
touch -r "$stamp" "$out"
log "built $(du -b build/index_bg.wasm | cut -f1) bytes of wasm"
