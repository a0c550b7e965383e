-- Tries: a gigabyte string with string.rep.
-- Must: end with the memory limit.
-- limits: instructions=1000000000
-- expect: ELIMIT memory
local s = ("x"):rep(1e9)
return #s
