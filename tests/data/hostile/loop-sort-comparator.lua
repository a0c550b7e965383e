-- Tries: an endless loop in a table.sort comparator (Lua called from C).
-- Must: end with the instruction limit.
-- expect: ELIMIT instruction
table.sort({ 3, 2, 1, 5, 4 }, function() while true do end end)
