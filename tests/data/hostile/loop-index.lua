-- Tries: an endless loop in an __index metamethod.
-- Must: end with the instruction limit.
-- expect: ELIMIT instruction
local t = setmetatable({}, { __index = function() while true do end end })
return t.x
