-- Tries: to reach string.dump (it makes binary chunks, bytecode that Lua runs
-- unverified) through the string table, a string's methods, the string
-- metatable's __index and every library table.
-- Must: find it nowhere; calling it is a plain script error at the last line.
-- expect: ERROR attempt to call a nil value
assert(string.dump == nil, "string.dump is there")
assert(("").dump == nil, "(''):dump is there")
assert(getmetatable("") == false, "getmetatable('') exposes the metatable")
assert(not pcall(function() return getmetatable("").__index end))
for _, lib in pairs({ string, table, math, utf8 }) do
  for k in pairs(lib) do assert(k ~= "dump", "a dump in a library") end
end
return string.dump(print)
