-- Tries: to grow a table without end.
-- Must: end with the memory limit.
-- limits: instructions=1000000000
-- expect: ELIMIT memory
local t, i = {}, 0
while true do i = i + 1; t[i] = i end
