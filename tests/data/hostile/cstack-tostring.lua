-- Tries: recursion through C: a __tostring that calls tostring on itself.
-- Must: be a "stack overflow" script error on a TS_SANDBOX_MIN_STACK thread.
-- expect: ERROR stack overflow
local t = setmetatable({}, { __tostring = function(self) return tostring(self) end })
return tostring(t)
