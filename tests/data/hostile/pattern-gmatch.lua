-- Tries: a pathological pattern in string.gmatch.
-- Must: end with the instruction limit.
-- expect: ELIMIT instruction
for x in ("a"):rep(30):gmatch(("a*"):rep(10) .. "b") do end
