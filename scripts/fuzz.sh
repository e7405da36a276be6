#!/usr/bin/env bash
# Runs every fuzz target (fuzz/, cargo fuzz + libFuzzer) for SECONDS each (default 30) and
# fails on any crash, timeout or out-of-memory. Seeds come from scripts/fuzz-seeds.py.
#   scripts/fuzz.sh            30 s per target
#   scripts/fuzz.sh 3600       the long run (docs/security.md, "Fuzzing and hostile inputs")
#   FUZZ_TARGETS="token_parse gate_decide" scripts/fuzz.sh 60
# Needs the nightly toolchain and cargo-fuzz (scripts/setup.sh installs both).
# Prints one line per target: "fuzz <target>: <execs> execs in <s> s, <n> corpus, ok|CRASH".
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
secs=${1:-30}
if ! cargo +nightly fuzz --help >/dev/null 2>&1; then
  echo "fuzz: cargo-fuzz or the nightly toolchain is missing (run scripts/setup.sh)" >&2
  exit 1
fi
python3 scripts/fuzz-seeds.py || exit 1
(cd fuzz && cargo +nightly fuzz build -O >&2) || { echo "fuzz: build failed" >&2; exit 1; }
targets=${FUZZ_TARGETS:-$(cd fuzz && cargo +nightly fuzz list)}
logdir=$(mktemp -d)
trap 'rm -rf "$logdir"' EXIT
failed=()
total=0
for t in $targets; do
  mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
  log="$logdir/$t.log"
  start=$SECONDS
  # -timeout: one input over 10 s is a failure (a hang); -rss_limit_mb: 2 GB is an OOM.
  (cd fuzz && cargo +nightly fuzz run -O "$t" "corpus/$t" -- \
      -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
      -print_final_stats=1 -close_fd_mask=1) >"$log" 2>&1
  rc=$?
  execs=$(grep -aoE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1)
  corpus=$(find "fuzz/corpus/$t" -type f | wc -l)
  total=$((total + ${execs:-0}))
  if [ "$rc" -ne 0 ] || grep -aqE '^==[0-9]+==ERROR|deadly signal|SUMMARY: libFuzzer|panicked at' "$log"; then
    failed+=("$t")
    echo "fuzz $t: ${execs:-?} execs in $((SECONDS - start)) s, $corpus corpus, CRASH (exit $rc)"
    grep -aE 'panicked at|ERROR|SUMMARY|Test unit written|artifact_prefix' "$log" | head -20
  else
    echo "fuzz $t: $execs execs in $((SECONDS - start)) s, $corpus corpus, ok"
  fi
done
echo "fuzz: $(echo $targets | wc -w) targets, $total execs, ${#failed[@]} crashed ($(date -u +%Y-%m-%dT%H:%MZ), ${secs} s each)"
[ ${#failed[@]} -eq 0 ]
