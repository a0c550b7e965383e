-- Tries: recursion through C: table.sort inside its own comparator.
-- Must: be a "stack overflow" script error on a TS_SANDBOX_MIN_STACK thread.
-- expect: ERROR stack overflow
-- limits: instructions=10000000   (the library default: this tests the C stack, and
--   C-heavy descent on a fresh thread costs more CPU than the VM loop that the
--   default mode estimates instructions from; under ASan, over 1,000,000)
local function cmp(a, b)
  table.sort({ 3, 2, 1 }, cmp)
  return a < b
end
table.sort({ 3, 2, 1 }, cmp)
