-- Tries: an xpcall message handler that loops forever (on Lua 5.4.4 the handler
-- of an error raised in a hook runs with hooks off).
-- Must: end with the instruction limit: the handler runs after unwinding, with
-- hooks on.
-- expect: ELIMIT instruction
xpcall(error, function() while true do end end)
