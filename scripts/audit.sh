#!/usr/bin/env bash
# `cargo audit` against the RustSec advisory database, offline.
#
# The database is a git repository normally cloned from GitHub, which this project's machines
# cannot reach. So a snapshot of it is committed: tests/audit/advisory-db.tar.gz (provenance
# in tests/audit/SNAPSHOT; CC0). A fresher copy wins when one is present (RUSTSEC_DB, or
# cargo-audit's default ~/.cargo/advisory-db). Cargo.lock and fuzz/Cargo.lock are audited;
# any advisory (vulnerability, unsound, unmaintained, yanked) fails the step unless it is
# listed below with the reason it does not apply (keep docs/security.md in step).
#
#   bash scripts/audit.sh                        audit (the test command runs this)
#   bash scripts/audit.sh --refresh DIR          replace the snapshot from a checkout DIR of
#                                                github.com/rustsec/advisory-db
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
snapshot=tests/audit/advisory-db.tar.gz

if [ "${1:-}" = "--refresh" ]; then
  src=${2:?usage: scripts/audit.sh --refresh DIR (a git checkout of rustsec/advisory-db)}
  commit=$(git -C "$src" rev-parse HEAD)
  date=$(git -C "$src" log -1 --format=%cs HEAD)
  git -C "$src" archive --format=tar HEAD crates rust LICENSE.txt README.md | gzip -9n > "$snapshot"
  cat > tests/audit/SNAPSHOT <<META
source: https://github.com/rustsec/advisory-db
commit: $commit
date: $date
contents: crates/ rust/ LICENSE.txt README.md (git archive of that commit, gzip -9n)
license: CC0-1.0 (public domain dedication; see LICENSE.txt inside the archive)
META
  echo "cargo audit: snapshot replaced with $commit ($date)"
  exit 0
fi

db=${RUSTSEC_DB:-$HOME/.cargo/advisory-db}
if [ -d "$db/crates" ]; then
  echo "cargo audit: advisory database $db"
else
  # The committed snapshot, unpacked once per snapshot content.
  sum=$(sha256sum "$snapshot" | cut -c1-16)
  db=target/advisory-db-$sum
  if [ ! -d "$db/crates" ]; then
    rm -rf "$db.tmp" && mkdir -p "$db.tmp"
    tar -xzf "$snapshot" -C "$db.tmp"
    rm -rf "$db" && mv "$db.tmp" "$db"
  fi
  snap_date=$(sed -n 's/^date: //p' tests/audit/SNAPSHOT)
  age_days=$(( ( $(date +%s) - $(date -d "$snap_date" +%s) ) / 86400 ))
  echo "cargo audit: committed snapshot of $snap_date ($age_days days old; tests/audit/SNAPSHOT)"
  if [ "$age_days" -gt 180 ]; then
    echo "cargo audit: warning: the snapshot is over 180 days old; refresh it (scripts/audit.sh --refresh DIR)" >&2
  fi
fi

if ! cargo audit --version >/dev/null 2>&1; then
  echo "cargo audit: installing cargo-audit (once, ~5 min)" >&2
  cargo install cargo-audit --locked >&2 || cargo install cargo-audit >&2
fi

# Advisories that do not apply, each with its reason.
ignore=(
  # rsa: Marvin timing side channel in *private-key* operations (decryption, signing).
  # edgegate only verifies signatures with public keys; no private key ever enters it,
  # and no fixed rsa release exists.
  --ignore RUSTSEC-2023-0071
)
for lock in Cargo.lock fuzz/Cargo.lock; do
  [ -f "$lock" ] || continue
  cargo audit --db "$db" --no-fetch --stale --deny warnings "${ignore[@]}" --file "$lock"
done
echo "cargo audit: ok"
