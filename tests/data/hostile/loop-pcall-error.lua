-- Tries: an endless loop of caught errors (each unwinding frees CallInfos:
-- the watchdog's lock must hold).
-- Must: end with the instruction limit, quickly.
-- expect: ELIMIT instruction
local function deep(n) if n == 0 then error("x") end return 1 + deep(n - 1) end
while true do pcall(deep, 50) end
