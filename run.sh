#!/usr/bin/env bash
# run.sh: everything needed on a fresh Debian bookworm machine, in one command.
#
#   ./run.sh demo [TEXT] [OPTIONS]      install what is missing, build, compile
#                                       the shipped KB and diagnose a problem on
#                                       it (tshoot diagnose TEXT OPTIONS); at a
#                                       terminal you answer the questions
#   ./run.sh test                       the same set-up, then the whole test
#                                       suite, plain and under ASan+UBSan, the
#                                       threaded tests under TSan, and (when
#                                       clang is there) each fuzz target for
#                                       20 s; ends with "N passed, N failed,
#                                       N skipped" over all of them
#   ./run.sh build                      set-up and build only
#   ./run.sh bench-peer [OPTIONS]       also install libxapian-dev, build
#                                       build-rel/ (release, -Dxapian=enabled)
#                                       and run bench-peer (default -n 10000):
#                                       search against raw FTS5 and Xapian
#
# Build folders: build/ (warnings are errors), build-asan/ (ASan+UBSan),
# build-tsan/ (ThreadSanitizer) and build-fuzz/ (clang, libFuzzer targets).
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES="meson ninja-build pkg-config gcc libc6-dev libsqlite3-dev libxml2-dev libxml2-utils
liblua5.4-dev libjansson-dev libsodium-dev nettle-dev python3 g++ binutils python3-dev python3-pytest python3-mesonpy"
# the man page's test renders it (groff), the --json outputs' test validates them
# against docs/schemas (python3-jsonschema)
PACKAGES="$PACKAGES groff-base python3-jsonschema"
# tshoot serve (engine/serve/) is built on libmicrohttpd; its tests use python3-jsonschema too
PACKAGES="$PACKAGES libmicrohttpd-dev"
# for the fuzz targets (./run.sh test): installed when possible, skipped without
FUZZ_PACKAGES="clang libclang-rt-dev"
# for bench/bench-peer only (./run.sh bench-peer), never needed by the tests
PEER_PACKAGES="libxapian-dev"
# for the browser test of tshoot serve's page (serve-browser, ./run.sh test):
# Debian's Chromium, driven by playwright-core and checked by axe-core from npm
# (tests/serve/browser/, no browser download); skipped without them. Debian's
# npm package only when npm is missing: a nodejs from elsewhere (NodeSource)
# brings its own npm and conflicts with Debian's.
BROWSER_PACKAGES="chromium nodejs"

# The tests that run threads, run again under ThreadSanitizer: sessions shared
# by threads (session; step-speed: the likelihood tables sessions share),
# compiles in parallel (compile: its index threads too; sqlite-faults: the
# compile's threads when an allocation fails at each point), KB handles whose
# connections are pooled (open), the script watchdog thread (host). search
# (threads sharing one KB) and kb-xml (XML validation in threads) also assert
# times (a search's 250 ms budget; a refusal within 250 ms) that TSan's
# slowdown can break: they run under tests/tools/tsan-races.sh, which fails on
# a TSan report or a crash and skips when only such checks failed. Not yet
# sandbox: it also asserts an instruction budget measured in CPU time and
# sizes its script thread's stack for ASan, not TSan; it joins once those
# limits no longer depend on speed.
TSAN_TESTS="session step-speed compile sqlite-faults open host"
TSAN_RACES_ONLY="search kb-xml"

say() { printf '%s\n' "$*" >&2; }

install_packages() { # install_packages [PACKAGES]: the missing ones of $PACKAGES
  local missing=() p
  for p in ${1:-$PACKAGES}; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "run.sh: installing ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# setup DIR [meson options...]: configure once, then build.
setup() {
  local dir=$1; shift
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" "$@" >/dev/null || { say "run.sh: meson setup $dir failed"; meson setup "$dir" "$@"; }
  fi
  ninja -C "$dir" >/dev/null || ninja -C "$dir"
}

# Count results from meson's JSON test log (one object a line, each with one
# "result"): prints "passed failed skipped".
count() {
  local p=0 f=0 s=0 r
  while read -r r; do
    case "$r" in
      OK|EXPECTEDFAIL) p=$((p + 1)) ;;
      SKIP) s=$((s + 1)) ;;
      *) f=$((f + 1)) ;;
    esac
  done < <(grep -o '"result": *"[A-Z]*"' "$1" | sed 's/.*"\([A-Z]*\)"$/\1/')
  echo "$p $f $s"
}

total_p=0 total_f=0 total_s=0
# run_tests DIR [meson test arguments...]: run them, print and add up the counts.
run_tests() {
  local dir=$1 rc=0 p f s log
  shift
  say "run.sh: testing $dir"
  rm -f "$dir"/meson-logs/testlog*.json
  meson test -C "$dir" --print-errorlogs --num-processes 2 "$@" || rc=$?
  # testlog.json, or testlog-WRAPPER.json when the tests ran under a wrapper
  log=$(ls "$dir"/meson-logs/testlog*.json 2>/dev/null | head -1)
  if [ -n "$log" ]; then
    read -r p f s < <(count "$log")
  else
    p=0 f=1 s=0
  fi
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  say "run.sh: $dir: $p passed, $f failed, $s skipped"
  total_p=$((total_p + p)) total_f=$((total_f + f)) total_s=$((total_s + s))
}

cmd=${1:-demo}
[ $# -gt 0 ] && shift
case "$cmd" in
  demo)
    install_packages
    setup build -Dwerror=true
    tshoot=build/engine/cli/tshoot
    # the build signed its KB with a key of its own (docs/signing.md): trust it here
    export TSHOOT_TRUST="${TSHOOT_TRUST:+$TSHOOT_TRUST:}$PWD/build/kb/build-signing.pub"
    if [ $# -gt 0 ]; then
      exec "$tshoot" diagnose "$@"
    fi
    text="Outlook won't start after the update, something about kofmsp.dll"
    if [ -t 0 ]; then
      say "run.sh: tshoot diagnose \"$text\"   (answer the questions; ? explains one)"
      exec "$tshoot" diagnose "$text"
    fi
    # no terminal to answer at: play a user whose connector file is gone
    say "run.sh: no terminal, so these answers are given: dll.exists=no scope.affected=pc"
    exec "$tshoot" diagnose "$text" --answer dll.exists=no --answer scope.affected=pc
    ;;
  build)
    install_packages
    setup build -Dwerror=true
    ;;
  test)
    install_packages
    install_packages "$FUZZ_PACKAGES" || say "run.sh: cannot install $FUZZ_PACKAGES; the fuzz targets are skipped"
    if install_packages "$BROWSER_PACKAGES" && { command -v npm >/dev/null || install_packages npm; }; then
      if [ ! -d tests/serve/browser/node_modules ]; then
        npm ci --prefix tests/serve/browser --no-audit --no-fund >/dev/null ||
          say "run.sh: npm ci in tests/serve/browser failed; the browser test is skipped"
      fi
    else
      say "run.sh: cannot install $BROWSER_PACKAGES npm; the browser test is skipped"
    fi
    for variant in "build -Dwerror=true" "build-asan -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false"; do
      set -- $variant
      dir=$1; shift
      say "run.sh: building $dir"
      setup "$dir" "$@"
      run_tests "$dir"
    done
    # ThreadSanitizer: only the threaded tests, and only what they need is built
    # (no Python: an uninstrumented interpreter cannot load a TSan extension).
    say "run.sh: building build-tsan"
    if [ ! -f build-tsan/build.ninja ]; then
      meson setup build-tsan -Dwerror=true -Db_sanitize=thread -Db_lundef=false \
        -Dpython=disabled -Dbench=false >/dev/null
    fi
    # the tests' executables, and the shipped KB that step-speed and compile read
    tsan_targets="kb/tshoot.db kb/tshoot.db.sig"
    for t in $TSAN_TESTS $TSAN_RACES_ONLY; do tsan_targets="$tsan_targets tests/unit/test-$t"; done
    # shellcheck disable=SC2086 # lists of words
    ninja -C build-tsan $tsan_targets >/dev/null || ninja -C build-tsan $tsan_targets
    # shellcheck disable=SC2086
    export TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1"
    run_tests build-tsan --no-rebuild $TSAN_TESTS
    # shellcheck disable=SC2086
    run_tests build-tsan --no-rebuild --wrapper "$PWD/tests/tools/tsan-races.sh" $TSAN_RACES_ONLY
    # tshoot serve (libmicrohttpd's thread pool) under TSan: its API and hostile tests
    if ninja -C build-tsan -t targets all 2>/dev/null | grep '^engine/serve/tshoot-serve:' >/dev/null; then
      ninja -C build-tsan engine/cli/tshoot engine/serve/tshoot-serve kb/tshoot.db >/dev/null
      run_tests build-tsan --no-rebuild serve-api serve-hostile
    fi
    unset TSAN_OPTIONS
    # libFuzzer targets, each fuzzing for a short time (tests/README.md: longer runs)
    if command -v clang >/dev/null; then
      say "run.sh: building build-fuzz"
      if [ ! -f build-fuzz/build.ninja ]; then
        CC=clang meson setup build-fuzz -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false \
          -Dtests=false -Dpython=disabled -Dbench=false >/dev/null
      fi
      ninja -C build-fuzz >/dev/null || ninja -C build-fuzz
      run_tests build-fuzz --no-rebuild --suite fuzz
      grep -h "executions in" build-fuzz/meson-logs/testlog.txt >&2 || true
    else
      say "run.sh: no clang: the fuzz targets are skipped"
    fi
    echo "$total_p passed, $total_f failed, $total_s skipped"
    [ "$total_f" -eq 0 ]
    ;;
  bench-peer)
    install_packages
    install_packages "$PEER_PACKAGES"
    if [ -f build-rel/build.ninja ]; then meson configure build-rel -Dxapian=enabled >/dev/null; fi
    setup build-rel --buildtype=release -Dxapian=enabled
    [ $# -gt 0 ] || set -- -n 10000
    say "run.sh: build-rel/bench/bench-peer $*"
    exec nice build-rel/bench/bench-peer "$@"
    ;;
  *)
    say "usage: ./run.sh demo [TEXT] | test | build | bench-peer [OPTIONS]"
    exit 2
    ;;
esac
