-- Tries: endless Lua recursion under the test's 4 MiB.
-- Must: end with the memory limit (the Lua stack grows into it).
-- limits: instructions=100000000000
-- expect: ELIMIT memory
local function f(n) return 1 + f(n + 1) end
return f(1)
