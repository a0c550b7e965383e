-- Tries: to swallow the instruction limit with pcall and go on looping.
-- Must: end with the instruction limit: pcall cannot catch a broken limit.
-- expect: ELIMIT instruction
while true do
  pcall(function() while true do end end)
end
