-- Tries: to swallow an out-of-memory error raised while load() compiles.
-- Must: end with the memory limit.
-- limits: instructions=1000000000
-- expect: ELIMIT memory
local big = "return {" .. ("1,"):rep(600000) .. "}"
local f, err = load(big)
return "swallowed " .. tostring(err)
