-- Tries: table.move of 2^50 elements (nils: nothing is allocated).
-- Must: end with the instruction limit.
-- expect: ELIMIT instruction
table.move({}, 1, 2^50, 2)
