-- Tries: recursion through C: table.sort inside its own comparator.
-- Must: be a "stack overflow" script error on a TS_SANDBOX_MIN_STACK thread.
-- expect: ERROR stack overflow
local function cmp(a, b)
  table.sort({ 3, 2, 1 }, cmp)
  return a < b
end
table.sort({ 3, 2, 1 }, cmp)
