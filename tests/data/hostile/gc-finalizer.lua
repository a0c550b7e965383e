-- Tries: a finalizer that loops forever (finalizers run with hooks off, during
-- the run or in lua_close, and would hang the thread).
-- Must: be refused by setmetatable: a script error at this line.
-- expect: ERROR metatables with __gc are not allowed
setmetatable({}, { __gc = function() while true do end end })
return "finalizer set"
