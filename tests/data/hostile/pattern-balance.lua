-- Tries: %b on a long unbalanced subject: a scan to the end from every position.
-- Must: end with the instruction limit.
-- expect: ELIMIT instruction
return ("("):rep(200000):find("%b()")
