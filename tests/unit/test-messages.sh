#!/usr/bin/env bash
# Every diagnostic code the engine can emit is documented in docs/messages.md,
# every documented code is still emitted somewhere (none silently retired), and
# a code listed under "Retired codes" is emitted nowhere (never reused).
set -euo pipefail
root=${TSHOOT_SOURCE_ROOT:?}
doc="$root/docs/messages.md"
used=$(grep -ho '"TSH-[EW][0-9]\{3\}"' "$root"/engine/*.c | tr -d '"' | sort -u)
# Active codes: table rows before the "## Retired codes" heading; retired: after it.
documented=$(sed '/^## Retired codes/,$d' "$doc" | grep -o '^| TSH-[EW][0-9]\{3\}' | tr -d '| ' | sort -u)
retired=$(sed -n '/^## Retired codes/,$p' "$doc" | { grep -o '^| TSH-[EW][0-9]\{3\}' || true; } | tr -d '| ' | sort -u)
fail=0
for c in $used; do
  grep -qx "$c" <<<"$documented" || { echo "code $c is emitted but not in docs/messages.md"; fail=1; }
done
for c in $documented; do
  grep -qx "$c" <<<"$used" || { echo "code $c is documented but never emitted (retire it: move it under 'Retired codes')"; fail=1; }
done
for c in $retired; do
  if grep -qx "$c" <<<"$used"; then echo "code $c is retired but emitted again: give the problem a new code"; fail=1; fi
  if grep -qx "$c" <<<"$documented"; then echo "code $c is both active and retired"; fail=1; fi
done
grep -q '^## Retired codes' "$doc" || { echo "docs/messages.md lost its 'Retired codes' section"; fail=1; }
n=$(wc -w <<<"$used")
[ "$n" -ge 30 ] || { echo "only $n codes found: the grep is broken"; fail=1; }
[ $fail -eq 0 ] && echo "ok: $n codes, all documented; $(wc -w <<<"$retired") retired, none emitted"
exit $fail
