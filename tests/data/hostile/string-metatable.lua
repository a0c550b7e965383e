-- Tries: to use the string metatable to change what every string does (its
-- __index, or its methods through it), or to reach anything through it.
-- Must: get false from getmetatable(""), fail to change a string's metatable;
-- string methods keep working.
-- expect: OK locked
assert(getmetatable("") == false)
assert(getmetatable("abc") == false)
assert(not pcall(setmetatable, "", {}))
assert(not pcall(rawset, getmetatable(""), "__index", {}))
assert(not pcall(function() getmetatable("").__index = {} end))
assert(("abc"):upper() == "ABC")
return "locked"
