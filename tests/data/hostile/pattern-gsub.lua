-- Tries: a pathological pattern in string.gsub.
-- Must: end with the instruction limit.
-- expect: ELIMIT instruction
return (("a"):rep(30):gsub(("a*"):rep(10) .. "b", "x"))
