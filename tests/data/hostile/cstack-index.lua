-- Tries: recursion through C: an __index function that indexes its table again.
-- Must: be Lua's "C stack overflow" script error, on a thread with exactly
-- TS_SANDBOX_MIN_STACK of stack.
-- expect: ERROR stack overflow
local t = setmetatable({}, { __index = function(t, k) return t[k] end })
return t.x
