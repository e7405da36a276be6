#!/usr/bin/env bash
# The main job, locally (issue 11): the Rust Worker in workerd (Miniflare, local KV and
# Durable Objects) in front of a demo origin, with a local OpenID issuer (RS256), all on
# 127.0.0.1. It walks through the cases (no token, user, admin, expired, tampered, burst into
# 429, API key from KV, revoked jti, forged X-User-Id), prints tokens, curl lines and a table,
# then serves until Ctrl-C. `--once`: exit after the walk-through, 0 only if every answer was
# the expected one (part of scripts/test.sh). `--port N`: the Worker's port (default 8787).
#
# On a fresh machine it installs what it needs first (scripts/setup.sh --demo: the wasm
# target, the wasm-bindgen CLI, npm packages, the npm package and the Rust Worker builds);
# later runs skip all that and start in seconds. No account, no network beyond loopback
# (after the first install).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
step() { printf '[demo] %s\n' "$*" >&2; }

step "1/3 checking the toolchain and dependencies (scripts/setup.sh --demo; slow only the first time)"
bash scripts/setup.sh --demo
step "2/3 the Rust Worker is built (build/index.js, build/index_bg.wasm)"
step "3/3 starting issuer, origin and Worker on 127.0.0.1"
exec node scripts/demo.mjs "$@"
