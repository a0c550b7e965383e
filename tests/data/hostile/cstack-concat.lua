-- Tries: recursion through C: a __concat that concatenates again.
-- Must: be a "stack overflow" script error on a TS_SANDBOX_MIN_STACK thread.
-- expect: ERROR stack overflow
local mt = {}
mt.__concat = function(a, b) return a .. b end
local t = setmetatable({}, mt)
return t .. "x"
