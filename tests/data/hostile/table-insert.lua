-- Tries: table.insert at position 1 of a table whose __len says 2^50: Lua's own
-- shifts 2^50 nils in one C call that no hook interrupts.
-- Must: end with the instruction limit: the shifts are counted.
-- expect: ELIMIT instruction
table.insert(setmetatable({}, { __len = function() return 2^50 end }), 1, "x")
