-- Tries: to see what tamper.lua changed (the harness runs the scripts one after
-- another, each in a fresh sandbox).
-- Must: see pristine globals and libraries.
-- expect: OK pristine
assert(rawget(_G, "leaked") == nil, "a global leaked")
assert(getmetatable(_G) == nil, "_G kept a metatable")
assert(("x"):rep(3) == "xxx", "string.rep was replaced")
assert(type(table.insert) == "function", "table.insert is gone")
assert(math.floor(2.5) == 2, "math.floor was replaced")
assert(tostring(1) == "1", "tostring was replaced")
assert(type(print) == "function", "print is gone")
return "pristine"
