-- Tries: an endless loop inside a gsub replacement function (Lua called from C).
-- Must: end with the instruction limit.
-- expect: ELIMIT instruction
return (("x"):rep(10):gsub(".", function() while true do end end))
