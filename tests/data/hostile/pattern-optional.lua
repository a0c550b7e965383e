-- Tries: the classic exponential pattern a?^n a^n against a^n (2^40 ways).
-- Must: end with the instruction limit.
-- expect: ELIMIT instruction
return ("a"):rep(40):find(("a?"):rep(40) .. ("a"):rep(40))
