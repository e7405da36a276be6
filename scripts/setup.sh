#!/usr/bin/env bash
# Idempotent set-up for a machine with only rustup, cargo and node/npm.
# Fast when everything is already there. Sourced or run by scripts/test.sh and scripts/demo.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { printf '[setup] %s\n' "$*" >&2; }

# `--demo`: only what scripts/demo.sh needs (no fuzzing toolchain, browser, Redis or benches).
demo=0
[ "${1:-}" = "--demo" ] && demo=1

# 1. Rust targets: wasm for the npm package, a no-std target to prove the core is no_std.
need_targets=()
installed_targets=$(rustup target list --installed)
for t in wasm32-unknown-unknown thumbv7em-none-eabi; do
  grep -qx "$t" <<<"$installed_targets" || need_targets+=("$t")
done
if [ ${#need_targets[@]} -gt 0 ]; then
  log "rustup target add ${need_targets[*]}"
  rustup target add "${need_targets[@]}" >&2
fi
for c in rustfmt clippy; do
  rustup component list --installed 2>/dev/null | grep -q "^$c" || { log "rustup component add $c"; rustup component add "$c" >&2; }
done

# 2. wasm-bindgen CLI, exactly the version in Cargo.lock (the crate is pinned with "=").
if grep -q '^name = "wasm-bindgen"$' Cargo.lock 2>/dev/null; then
  want=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/version = |"/,""); print; exit}' Cargo.lock)
  have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
  if [ "$have" != "$want" ]; then
    log "cargo install wasm-bindgen-cli --version $want (about 5 minutes, once)"
    # Not --locked: this registry mirror lacks one of its locked dependencies.
    cargo install wasm-bindgen-cli --version "$want" >&2
  fi
fi

if [ "$demo" = 0 ]; then
# 2b. Fuzzing (fuzz/, scripts/fuzz.sh): the nightly toolchain and cargo-fuzz, each only when missing.
if ! rustup toolchain list | grep -q '^nightly'; then
  log "rustup toolchain install nightly (for cargo fuzz)"
  rustup toolchain install nightly --profile minimal >&2
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  log "cargo install cargo-fuzz (about 2 minutes, once)"
  cargo install cargo-fuzz >&2
fi

# 3. Debian packages for the browser test (headless Chromium driven by playwright-core).
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "apt-get install chromium"
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >&2
  else
    log "WARNING: chromium missing and cannot apt-get install it (not root); browser tests will fail"
  fi
fi

# 3b. redis-server for the Redis store test (pkg-js/test/redis.test.mjs starts its own on 127.0.0.1).
if ! command -v redis-server >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "apt-get install redis-server"
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >&2
  else
    log "WARNING: redis-server missing and cannot apt-get install it (not root); the Redis store test will fail"
  fi
fi

fi

# 4. npm dependencies: the root workspace and the side projects with their own lockfiles.
npm_ci() {
  local dir=$1
  [ -f "$dir/package-lock.json" ] || return 0
  local stamp="$dir/node_modules/.edgegate-lock-stamp"
  if [ ! -f "$stamp" ] || ! cmp -s "$dir/package-lock.json" "$stamp"; then
    log "npm ci in $dir"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >&2)
    cp "$dir/package-lock.json" "$stamp"
  fi
}
npm_ci .
if [ "$demo" = 0 ]; then
  npm_ci tests/fixtures/jose
  npm_ci benches
fi

# 5. Build the wasm + JS package (idempotent; the script skips what is up to date).
# The demo only needs pkg-js/dist: it skips the (25 s) idempotent build when nothing is newer.
js_stamp=pkg-js/dist/esm/node-esm.js
if [ "$demo" = 1 ] && [ -f "$js_stamp" ] &&
  [ -z "$(find src pkg-js/src Cargo.toml Cargo.lock scripts/build-js.sh -newer "$js_stamp" -type f -print -quit 2>/dev/null)" ]; then
  log "the npm package is up to date ($js_stamp)"
elif [ -f scripts/build-js.sh ]; then
  log "building the npm package"
  bash scripts/build-js.sh >&2
fi
# 6. The Rust Worker (src/worker/) for wrangler.toml and its end-to-end test (skips when
# build/ is up to date; installs worker-build once).
log "building the Rust Worker"
bash scripts/build-worker.sh >&2
log "ready"
