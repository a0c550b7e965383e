-- Tries: to call a host function after swallowing the limit with pcall.
-- Must: end with the instruction limit; hostfn is never reached.
-- host-calls: 0
-- expect: ELIMIT instruction
pcall(function() while true do end end)
return hostfn()
