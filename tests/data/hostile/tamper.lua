-- Tries: to change globals and libraries for whoever runs next: replaces
-- string.rep, table.insert, math.floor, print and tostring, sets a global, gives
-- _G a metatable.
-- Must: work inside this run only (tamper-check.lua, run next in a fresh
-- sandbox, sees none of it).
-- expect: OK tampered
string.rep = function() return "pwned" end
table.insert = nil
math.floor = function() return 42 end
tostring = function() return "pwned" end
print = nil
leaked = "leaked"
setmetatable(_G, { __index = function(_, k) return "pwned:" .. k end })
assert(("x"):rep(3) == "pwned")
return "tampered"
