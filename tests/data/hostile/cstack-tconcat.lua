-- Tries: recursion through C with table.concat's buffer at every level: an
-- __index that concatenates the table again.
-- Must: be a "stack overflow" script error on a TS_SANDBOX_MIN_STACK thread.
-- expect: ERROR stack overflow
-- limits: instructions=10000000   (the library default: this tests the C stack, and
--   C-heavy descent on a fresh thread costs more CPU than the VM loop that the
--   default mode estimates instructions from; under ASan, over 1,000,000)
local t
t = setmetatable({}, { __index = function() return table.concat(t, ",", 1, 2) end })
return table.concat(t, ",", 1, 2)
