#!/bin/sh
# tsan-races.sh TEST [ARGS...]: runs a test built with ThreadSanitizer (as
# meson test --wrapper) for what TSan finds, for a test that also asserts time
# budgets that TSan's slowdown can break. A data race or other TSan report
# (exit status 66) or a crash fails; all checks passing passes; checks that
# fail without any TSan report make the run a skip (exit 77), saying so.
"$@"
rc=$?
case "$rc" in
  0) exit 0 ;;
  66) echo "tsan-races: ThreadSanitizer reported a problem" >&2; exit 1 ;;
esac
if [ "$rc" -gt 128 ]; then
  echo "tsan-races: the test died of signal $((rc - 128))" >&2
  exit "$rc"
fi
echo "tsan-races: checks failed (exit $rc) without a ThreadSanitizer report:" \
     "time budgets under TSan's slowdown; skipped" >&2
exit 77
