-- Tries: the pathological pattern with lazy repetitions.
-- Must: end with the instruction limit.
-- expect: ELIMIT instruction
return ("a"):rep(30):find(("a-"):rep(10) .. "b")
