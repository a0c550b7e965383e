-- Tries: a plain find of a 2 MiB needle that almost matches at every position
-- of a 4 MiB subject (Lua's own search compares 2 MiB at each of 2 million
-- places).
-- Must: end with the instruction limit.
-- limits: memory=16384
-- expect: ELIMIT instruction
local s = ("a"):rep(2^22)
return s:find(("a"):rep(2^21) .. "b", 1, true)
