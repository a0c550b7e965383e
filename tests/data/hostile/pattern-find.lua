-- Tries: a pathological pattern in string.find (44 s with Lua's own matcher).
-- Must: end with the instruction limit: the matcher counts its steps.
-- expect: ELIMIT instruction
return ("a"):rep(30):find(("a*"):rep(10) .. "b")
