-- Tries: to swallow the instruction limit with xpcall and a handler that
-- returns normally, then go on.
-- Must: end with the instruction limit; the last line is never reached.
-- expect: ELIMIT instruction
local ok = xpcall(function() while true do end end, function() return "swallowed" end)
return "escaped " .. tostring(ok)
