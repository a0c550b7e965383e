#!/usr/bin/env bash
# run.sh: everything needed on a fresh Debian bookworm machine, in one command.
#
#   ./run.sh demo [TEXT] [OPTIONS]      install what is missing, build, compile
#                                       the shipped KB and diagnose a problem on
#                                       it (tshoot diagnose TEXT OPTIONS); at a
#                                       terminal you answer the questions
#   ./run.sh test                       the same set-up, then the whole test
#                                       suite, plain and under ASan+UBSan; ends
#                                       with "N passed, N failed, N skipped"
#   ./run.sh build                      set-up and build only
#
# Build folders: build/ (warnings are errors) and build-asan/ (sanitizers).
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES="meson ninja-build pkg-config gcc libc6-dev libsqlite3-dev libxml2-dev libxml2-utils
liblua5.4-dev libjansson-dev python3 g++ binutils python3-dev python3-pytest python3-mesonpy"

say() { printf '%s\n' "$*" >&2; }

install_packages() {
  local missing=() p
  for p in $PACKAGES; do
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

# Count results from meson's JSON test log: prints "passed failed skipped".
count() {
  python3 - "$1" <<'PY'
import json, sys
p = f = s = 0
for line in open(sys.argv[1]):
    line = line.strip()
    if not line:
        continue
    r = json.loads(line).get("result", "")
    if r in ("OK", "EXPECTEDFAIL"):
        p += 1
    elif r == "SKIP":
        s += 1
    else:
        f += 1
print(p, f, s)
PY
}

cmd=${1:-demo}
[ $# -gt 0 ] && shift
case "$cmd" in
  demo)
    install_packages
    setup build -Dwerror=true
    tshoot=build/engine/cli/tshoot
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
    total_p=0 total_f=0 total_s=0
    for variant in "build -Dwerror=true" "build-asan -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false"; do
      set -- $variant
      dir=$1; shift
      say "run.sh: building $dir"
      setup "$dir" "$@"
      say "run.sh: testing $dir"
      rc=0
      meson test -C "$dir" --print-errorlogs --num-processes 2 || rc=$?
      log="$dir/meson-logs/testlog.json"
      if [ -f "$log" ]; then
        read -r p f s < <(count "$log")
      else
        p=0 f=1 s=0
      fi
      if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
      say "run.sh: $dir: $p passed, $f failed, $s skipped"
      total_p=$((total_p + p)) total_f=$((total_f + f)) total_s=$((total_s + s))
    done
    echo "$total_p passed, $total_f failed, $total_s skipped"
    [ "$total_f" -eq 0 ]
    ;;
  *)
    say "usage: ./run.sh demo [TEXT] | test | build"
    exit 2
    ;;
esac
