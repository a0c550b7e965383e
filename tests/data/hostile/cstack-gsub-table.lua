-- Tries: recursion through C: gsub whose replacement table's __index runs gsub.
-- Must: be a "stack overflow" script error on a TS_SANDBOX_MIN_STACK thread.
-- expect: ERROR stack overflow
-- limits: instructions=10000000   (the library default: this tests the C stack, and
--   C-heavy descent on a fresh thread costs more CPU than the VM loop that the
--   default mode estimates instructions from; under ASan, over 1,000,000)
local repl = setmetatable({}, {})
getmetatable(repl).__index = function(_, k) return (k:gsub(".", repl)) end
return (("ab"):gsub(".", repl))
