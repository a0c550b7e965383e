#!/usr/bin/env bash
# Every diagnostic code the engine can emit is documented in docs/messages.md,
# and every documented code is still emitted somewhere (none silently retired).
set -euo pipefail
root=${TSHOOT_SOURCE_ROOT:?}
used=$(grep -ho '"TSH-[EW][0-9]\{3\}"' "$root"/engine/*.c | tr -d '"' | sort -u)
documented=$(grep -o '^| TSH-[EW][0-9]\{3\}' "$root/docs/messages.md" | tr -d '| ' | sort -u)
fail=0
for c in $used; do
  grep -qx "$c" <<<"$documented" || { echo "code $c is emitted but not in docs/messages.md"; fail=1; }
done
for c in $documented; do
  grep -qx "$c" <<<"$used" || { echo "code $c is documented but never emitted"; fail=1; }
done
n=$(wc -w <<<"$used")
[ "$n" -ge 30 ] || { echo "only $n codes found: the grep is broken"; fail=1; }
[ $fail -eq 0 ] && echo "ok: $n codes, all documented"
exit $fail
