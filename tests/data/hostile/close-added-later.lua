-- Tries: a metatable that gets its looping __close after setmetatable (Lua looks
-- __close up when it closes the variable).
-- Must: end with the instruction limit: the handler runs with hooks on.
-- expect: ELIMIT instruction
local mt = {}
local o = setmetatable({}, mt)
mt.__close = function() while true do end end
do local x <close> = o end
return "closed"
