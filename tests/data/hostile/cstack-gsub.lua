-- Tries: recursion through C: gsub inside gsub's replacement function.
-- Must: be a "stack overflow" script error on a TS_SANDBOX_MIN_STACK thread.
-- expect: ERROR stack overflow
local function g(s) return (s:gsub(".", g)) end
return g("ab")
