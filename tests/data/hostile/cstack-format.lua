-- Tries: recursion through C with string.format's buffers at every level: a
-- __tostring that formats itself with %s.
-- Must: be a "stack overflow" script error on a TS_SANDBOX_MIN_STACK thread.
-- expect: ERROR stack overflow
local t = setmetatable({}, { __tostring = function(self) return string.format("%s", self) end })
return string.format("%s", t)
