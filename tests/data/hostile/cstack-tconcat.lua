-- Tries: recursion through C with table.concat's buffer at every level: an
-- __index that concatenates the table again.
-- Must: be a "stack overflow" script error on a TS_SANDBOX_MIN_STACK thread.
-- expect: ERROR stack overflow
local t
t = setmetatable({}, { __index = function() return table.concat(t, ",", 1, 2) end })
return table.concat(t, ",", 1, 2)
