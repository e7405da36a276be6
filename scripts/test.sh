#!/usr/bin/env bash
# The one test command: sets up what is missing, then runs every check and test.
# Closes with a line "edgegate: N passed, N failed" (counts of test cases across all runners).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)
logdir=$(mktemp -d)
trap 'rm -rf "$logdir"' EXIT

bash scripts/setup.sh || { echo "setup failed"; echo "edgegate: 0 passed, 1 failed"; exit 1; }

passed=0
failed=0
failed_steps=()
step_no=0

# run_step NAME COMMAND...: runs a check, shows its output, records pass/fail.
run_step() {
  local name=$1; shift
  step_no=$((step_no + 1))
  local log="$logdir/$step_no.log"
  local start=$SECONDS
  printf '\n=== %s: %s\n' "$name" "$*"
  "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  # Count test cases reported by cargo test and node's test runner (tap or spec reporter).
  local p f
  p=$(grep -aoE 'test result: [a-zA-Z]+\. [0-9]+ passed' "$log" | awk '{s+=$4} END {print s+0}')
  f=$(grep -aoE '[0-9]+ failed; [0-9]+ ignored' "$log" | awk '{s+=$1} END {print s+0}')
  p=$((p + $(grep -aE '^(# |ℹ )pass [0-9]+$' "$log" | awk '{s+=$3} END {print s+0}')))
  f=$((f + $(grep -aE '^(# |ℹ )fail [0-9]+$' "$log" | awk '{s+=$3} END {print s+0}')))
  passed=$((passed + p)); failed=$((failed + f))
  if [ "$rc" -ne 0 ]; then
    failed_steps+=("$name")
    # A failing step that reported no failing test case still counts as one failure.
    [ "$f" -eq 0 ] && failed=$((failed + 1))
    printf '=== %s FAILED (exit %s, %ss)\n' "$name" "$rc" "$((SECONDS - start))"
  else
    printf '=== %s ok (%ss)\n' "$name" "$((SECONDS - start))"
  fi
}

export CARGO_TERM_COLOR=never
run_step "rustfmt" cargo fmt --all -- --check
run_step "clippy (std)" cargo clippy --all-targets -- -D warnings
run_step "clippy (no_std core, thumbv7em)" cargo clippy --lib --no-default-features --target thumbv7em-none-eabi -- -D warnings
if grep -q '^wasm = ' Cargo.toml; then
  run_step "clippy (wasm bindings)" cargo clippy --lib --target wasm32-unknown-unknown --features wasm -- -D warnings
fi
# The partial wasm builds the package ships (inspect-only for edgegate/browser, verify-only
# for the Node default import, gate-only) each compile with their own cfg set.
for feature in wasm-inspect wasm-verify wasm-gate; do
  if grep -q "^$feature = " Cargo.toml; then
    run_step "clippy ($feature build)" cargo clippy --lib --target wasm32-unknown-unknown --no-default-features --features "$feature" -- -D warnings
  fi
done
# The Rust Cloudflare Worker (src/worker/, feature `worker`).
run_step "clippy (Rust Worker)" cargo clippy --lib --target wasm32-unknown-unknown --features worker -- -D warnings
run_step "build no_std (thumbv7em-none-eabi)" cargo build --lib --no-default-features --target thumbv7em-none-eabi
run_step "build wasm32 release" cargo build --lib --target wasm32-unknown-unknown --release
run_step "cargo test" cargo test --all-targets
run_step "cargo test (doc)" cargo test --doc
# The rate-limit accuracy simulation (docs/ratelimits.md): exits non-zero when a target is
# missed; shows its two result lines.
run_step "rate-limit simulation" bash -c "set -o pipefail; cargo run -q --release --example ratelimit_sim | tail -2"
# The vector counts (the test above asserts them; this prints them, and is not counted twice).
run_step "wycheproof counts" bash -c "set -o pipefail; cargo test -q --test wycheproof -- --nocapture 2>&1 | grep -oE 'wycheproof: [0-9]+ .*'"
# Fuzzing: a short run of every target (docs/security.md has the long-run command).
run_step "fuzz (10 s per target)" bash scripts/fuzz.sh 10
# Dependency advisories: cargo audit against the committed RustSec snapshot (tests/audit/,
# docs/security.md "Dependency advisories"); any unlisted advisory fails.
run_step "cargo audit" bash scripts/audit.sh
# The soak's short run (docs/security.md "Soak"): the Rust Worker in workerd under load for
# 60 s with a key rotation every 20 s; fails on any unexpected answer.
run_step "soak (60 s)" env SOAK_ROTATE_MS=20000 bash scripts/soak.sh 60
if [ -f package.json ] && grep -q '"test"' package.json; then
  run_step "npm test" npm test --silent
fi
# The main job, locally (README): the Rust Worker in workerd with a local issuer and origin,
# every case of the walk-through answered as expected.
run_step "demo (--once)" bash scripts/demo.sh --once

echo
if [ ${#failed_steps[@]} -gt 0 ]; then
  echo "failed steps: ${failed_steps[*]}"
fi
echo "edgegate: $passed passed, $failed failed"
[ ${#failed_steps[@]} -eq 0 ]
