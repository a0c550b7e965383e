-- Tries: recursion through C with a long pattern at every level (the matcher's
-- own C stack must not grow with the pattern).
-- Must: be a "stack overflow" script error on a TS_SANDBOX_MIN_STACK thread.
-- expect: ERROR stack overflow
local p = ("(.?)"):rep(30)
local function g(s) return (s:gsub(p, g)) end
return g("abc")
