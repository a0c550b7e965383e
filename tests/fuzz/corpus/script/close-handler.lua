-- Tries: a to-be-closed variable whose __close loops forever.
-- Must: be refused by setmetatable: a script error at this line.
-- expect: ERROR metatables with __close are not allowed
local o = setmetatable({}, { __close = function() while true do end end })
do local x <close> = o end
