-- Tries: to swallow the matcher's limit with pcall and go on matching.
-- Must: end with the instruction limit.
-- expect: ELIMIT instruction
local s, p = ("a"):rep(30), ("a*"):rep(10) .. "b"
while true do pcall(string.find, s, p) end
