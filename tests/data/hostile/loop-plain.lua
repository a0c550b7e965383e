-- Tries: an endless loop that calls nothing.
-- Must: end with the instruction limit, quickly.
-- expect: ELIMIT instruction
while true do end
