#!/bin/bash
# bench-serve.sh BUILD_DIR [bench-serve options...]: make the synthetic 10k KB
# and its 1,000 queries (once, in $TSHOOT_BENCH_WORK or /tmp/tshoot-bench-serve),
# then run bench-serve against tshoot-serve with the shipped Kerio KB.
#   bench/bench-serve.sh build              # the figures of BENCHMARKS.md
#   bench/bench-serve.sh build --seconds 3 --dialogues 200    # a quick look
set -euo pipefail
build=$(cd "${1:?usage: bench/bench-serve.sh BUILD_DIR [options]}" && pwd)
shift
work=${TSHOOT_BENCH_WORK:-/tmp/tshoot-bench-serve}
mkdir -p "$work"
if [ ! -f "$work/kb10k.db" ]; then
  "$build/bench/gen-kb" -n 10000 -o "$work/src" >/dev/null
  "$build/engine/cli/tshoot" compile --quiet "$work/src" -o "$work/kb10k.db"
  rm -rf "$work/src"
fi
[ -f "$work/queries.txt" ] || "$build/bench/gen-kb" --queries 1000 -o "$work/queries.txt" >/dev/null
exec "$build/bench/bench-serve" --serve "$build/engine/serve/tshoot-serve" \
  --search-kb "$work/kb10k.db" --queries "$work/queries.txt" --kerio-kb "$build/kb/tshoot.db" \
  --work "$work" "$@"
