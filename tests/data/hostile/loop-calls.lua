-- Tries: an endless loop of Lua calls.
-- Must: end with the instruction limit, quickly.
-- expect: ELIMIT instruction
local function f(x) return x + 1 end
local n = 0
while true do n = f(n) end
