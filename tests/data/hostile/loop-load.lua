-- Tries: to run the endless loop in code made by load(), inside pcall.
-- Must: end with the instruction limit.
-- expect: ELIMIT instruction
while true do pcall(load("while true do end")) end
