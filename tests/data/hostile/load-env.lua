-- Tries: to escape the environment with load(): a chunk's globals, an explicit
-- env argument, a reader function.
-- Must: loaded code sees the sandbox's globals only (or the env given).
-- expect: OK confined
assert(load("return io")() == nil)
assert(load("return os")() == nil)
assert(load("return string.rep")() == string.rep)
assert(load("return x", "c", "t", { x = 1 })() == 1)
local parts, i = { "return ", "1 + ", "1" }, 0
local f = load(function() i = i + 1 return parts[i] end)
assert(f() == 2)
return "confined"
