-- Tries: recursion through C: gsub whose replacement table's __index runs gsub.
-- Must: be a "stack overflow" script error on a TS_SANDBOX_MIN_STACK thread.
-- expect: ERROR stack overflow
local repl = setmetatable({}, {})
getmetatable(repl).__index = function(_, k) return (k:gsub(".", repl)) end
return (("ab"):gsub(".", repl))
