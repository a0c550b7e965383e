#!/usr/bin/env python3
"""The shared library exports exactly the functions tshoot.h declares with TSHOOT_API."""
import re, subprocess, sys

lib, header = sys.argv[1], sys.argv[2]
out = subprocess.run(['nm', '-D', '--defined-only', lib], check=True, capture_output=True, text=True).stdout
exported = {l.split()[-1].split('@')[0] for l in out.splitlines() if l.split() and l.split()[-2] in 'TDBR'}
text = open(header).read()
declared = set(re.findall(r'TSHOOT_API\s+[^;(]*?\**\s*\b(tshoot_\w+)\s*\(', text))
ok = True
for s in sorted(exported - declared):
    print('exported but not in tshoot.h:', s); ok = False
for s in sorted(declared - exported):
    print('declared in tshoot.h but not exported:', s); ok = False
if len(declared) < 15:
    print('only %d declarations found: the pattern is broken' % len(declared)); ok = False
print('ok: %d symbols' % len(declared) if ok else 'FAIL')
sys.exit(0 if ok else 1)
