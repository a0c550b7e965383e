#!/bin/sh
# run-fuzz.sh TARGET SECONDS CORPUS...: fuzz TARGET for SECONDS from the seed
# corpora, as a test. New inputs go to a temporary folder (the seeds in the
# repository are never written); a crash or a broken invariant fails the test,
# and its input is kept in the build folder (fuzz-NAME-crash-*). The last line
# says how many inputs were run. The random seed is fixed (TSHOOT_FUZZ_SEED,
# default 1) so that a test run replays the same inputs in the same order and
# a failure reproduces; long runs (tests/README.md) use fresh seeds.
set -eu
target=$1 seconds=$2
shift 2
work=$(mktemp -d "${TMPDIR:-/tmp}/tshoot-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
name=$(basename "$target")
rc=0
"$target" -seed="${TSHOOT_FUZZ_SEED:-1}" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
  -print_final_stats=1 -artifact_prefix="$(pwd)/$name-crash-" "$work" "$@" 2>"$work.log" || rc=$?
tail -40 "$work.log" >&2
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work.log" | tail -1)
rm -f "$work.log"
echo "$name: ${runs:-?} executions in ${seconds}s"
exit "$rc"
