-- Tries: to double a string without end by concatenation.
-- Must: end with the memory limit.
-- limits: instructions=1000000000
-- expect: ELIMIT memory
local s = "x"
while true do s = s .. s end
