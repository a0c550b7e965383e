-- Tries: recursion through C with a long pattern at every level (the matcher's
-- own C stack must not grow with the pattern).
-- Must: be a "stack overflow" script error on a TS_SANDBOX_MIN_STACK thread.
-- expect: ERROR stack overflow
-- limits: instructions=10000000   (the library default: this tests the C stack, and
--   C-heavy descent on a fresh thread costs more CPU than the VM loop that the
--   default mode estimates instructions from; under ASan, over 1,000,000)
local p = ("(.?)"):rep(30)
local function g(s) return (s:gsub(p, g)) end
return g("abc")
