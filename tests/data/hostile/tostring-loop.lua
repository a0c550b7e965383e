-- Tries: a __tostring that loops forever, called by print inside the script.
-- Must: end with the instruction limit.
-- expect: ELIMIT instruction
print(setmetatable({}, { __tostring = function() while true do end end }))
