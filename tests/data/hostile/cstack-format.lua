-- Tries: recursion through C with string.format's buffers at every level: a
-- __tostring that formats itself with %s.
-- Must: be a "stack overflow" script error on a TS_SANDBOX_MIN_STACK thread.
-- expect: ERROR stack overflow
-- limits: instructions=10000000   (the library default: this tests the C stack, and
--   C-heavy descent on a fresh thread costs more CPU than the VM loop that the
--   default mode estimates instructions from; under ASan, over 1,000,000)
local t = setmetatable({}, { __tostring = function(self) return string.format("%s", self) end })
return string.format("%s", t)
