-- Tries: table.remove at position 1 of a table whose __len says 2^50.
-- Must: end with the instruction limit.
-- expect: ELIMIT instruction
table.remove(setmetatable({}, { __len = function() return 2^50 end }), 1)
