-- Tries: an endless loop of string library calls (C functions, garbage).
-- Must: end with the instruction limit, quickly.
-- expect: ELIMIT instruction
while true do
  local s = ("x"):rep(100):upper():lower()
  s = s:sub(2, 50) .. tostring(#s)
end
