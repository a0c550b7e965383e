-- Tries: back-references that compare long captures at every backtrack.
-- Must: end with the instruction limit.
-- expect: ELIMIT instruction
return ("a"):rep(5000):find("(a*)(a*)%1%2b")
