#!/usr/bin/env bash
# `cargo audit` against the RustSec advisory database, offline. The database is a git
# repository normally cloned from GitHub, which this project's machines cannot reach, and no
# copy is published on crates.io, npm, PyPI or Debian (docs/security.md, "Dependency
# advisories"). So: when a copy is present (RUSTSEC_DB, or cargo-audit's default
# ~/.cargo/advisory-db), audit Cargo.lock and fuzz/Cargo.lock against it and fail on any
# advisory not listed below with its reason; otherwise say so and pass (the manual review
# list in docs/security.md applies).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
db=${RUSTSEC_DB:-$HOME/.cargo/advisory-db}
if [ ! -d "$db" ] || [ -z "$(ls -A "$db" 2>/dev/null)" ]; then
  echo "cargo audit: skipped, no RustSec advisory database at $db (set RUSTSEC_DB; see docs/security.md)"
  exit 0
fi
if ! cargo audit --version >/dev/null 2>&1; then
  echo "cargo audit: installing cargo-audit (once)" >&2
  cargo install cargo-audit --locked >&2 || cargo install cargo-audit >&2
fi
# Advisories that do not apply, each with its reason (keep docs/security.md in step).
ignore=(
  # rsa: Marvin timing side channel in *private-key* operations (decryption, signing).
  # edgegate only verifies signatures with public keys; no private key ever enters it.
  --ignore RUSTSEC-2023-0071
)
cargo audit --db "$db" --no-fetch --stale "${ignore[@]}" --file Cargo.lock
if [ -f fuzz/Cargo.lock ]; then
  cargo audit --db "$db" --no-fetch --stale "${ignore[@]}" --file fuzz/Cargo.lock
fi
echo "cargo audit: ok"
