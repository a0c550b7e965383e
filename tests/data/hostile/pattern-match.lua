-- Tries: a pathological pattern in string.match.
-- Must: end with the instruction limit.
-- expect: ELIMIT instruction
return ("a"):rep(30):match(("a*"):rep(10) .. "b")
