#!/usr/bin/env bash
# The soak (issue 13, docs/security.md "Soak"): the Rust Worker in local workerd (Miniflare)
# under steady load on loopback for SECONDS (default 600), with a key rotation every minute at
# a local issuer and a changing token mix; prints a time series every 10 s (requests, unexpected
# answers, p50/p99, workerd RSS). Exits non-zero on any unexpected answer.
#   bash scripts/soak.sh          # 10 minutes
#   bash scripts/soak.sh 60       # the test command's short run
# SOAK_CONCURRENCY (default 4) and SOAK_ROTATE_MS (default 60000, at least 20000) tune it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
secs=${1:-600}
case "$secs" in ''|*[!0-9]*) echo "usage: scripts/soak.sh [SECONDS]" >&2; exit 2 ;; esac
bash scripts/build-worker.sh
# The driver imports the package (createApiKey) by its own name: build it when missing.
[ -f pkg-js/dist/esm/node-esm.js ] || bash scripts/build-js.sh
exec node scripts/soak.mjs "$secs"
