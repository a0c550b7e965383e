-- Tries: endless tail calls (no stack growth at all).
-- Must: end with the instruction limit.
-- expect: ELIMIT instruction
local function f(n) return f(n + 1) end
return f(1)
