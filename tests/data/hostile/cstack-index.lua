-- Tries: recursion through C: an __index function that indexes its table again.
-- Must: be Lua's "C stack overflow" script error, on a thread with exactly
-- TS_SANDBOX_MIN_STACK of stack.
-- expect: ERROR stack overflow
-- limits: instructions=10000000   (the library default: this tests the C stack, and
--   C-heavy descent on a fresh thread costs more CPU than the VM loop that the
--   default mode estimates instructions from; under ASan, over 1,000,000)
local t = setmetatable({}, { __index = function(t, k) return t[k] end })
return t.x
