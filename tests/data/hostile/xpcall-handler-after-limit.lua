-- Tries: a handler that loops forever, reached by the limit's own error (the
-- 5.4.4 case where the handler would run with hooks off).
-- Must: end with the instruction limit, quickly.
-- expect: ELIMIT instruction
xpcall(function() while true do end end, function() while true do end end)
