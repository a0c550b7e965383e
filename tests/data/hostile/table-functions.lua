-- Tries: the table functions the sandbox replaces (insert, remove, move,
-- concat, unpack, sort), on plain tables and on tables with metamethods.
-- Must: behave as Lua's own.
-- expect: OK same
local t = { 1, 2, 3 }
table.insert(t, 4); table.insert(t, 1, 0)
assert(table.concat(t, ",") == "0,1,2,3,4")
assert(table.remove(t) == 4 and table.remove(t, 1) == 0 and table.concat(t) == "123")
assert(not pcall(table.insert, t, 9, 1) and not pcall(table.insert, t, 1, 2, 3))
assert(table.concat(table.move({ 1, 2, 3 }, 1, 3, 2), ",") == "1,1,2,3")
assert(table.concat(table.move({ 1, 2, 3 }, 2, 3, 1), ",") == "2,3,3")
assert(table.concat(table.move({ 1, 2 }, 1, 2, 1, { 9, 9, 9 }), ",") == "1,2,9")
assert(table.concat({}, ",") == "" and table.concat({ "a" }, ",") == "a")
assert(table.concat({ 1, 2, 3 }, "-", 2, 3) == "2-3" and table.concat({ 1, 2 }, "-", 3) == "")
assert(not pcall(table.concat, { 1, {}, 3 }))
assert(select("#", table.unpack({ 1, 2, 3 })) == 3 and select("#", table.unpack({}, 1, 0)) == 0)
local a, b = table.unpack({ 1, 2, 3 }, 2)
assert(a == 2 and b == 3)
assert(not pcall(table.unpack, {}, 1, 1e8))
local s = { 5, 3, 9, 1 }
table.sort(s); assert(table.concat(s, ",") == "1,3,5,9")
table.sort(s, function(x, y) return x > y end); assert(table.concat(s, ",") == "9,5,3,1")
local log = {}
local proxy = setmetatable({}, {
  __index = function(_, k) return ({ 3, 1, 2 })[k] end,
  __newindex = function(_, k, v) log[k] = v end,
  __len = function() return 3 end })
table.sort(proxy)
assert(log[1] == 1 and log[2] == 2 and log[3] == 3)
assert(table.concat(proxy, "") == "312" and select("#", table.unpack(proxy)) == 3)
assert(not pcall(table.sort, { 1, "x" }))
return "same"
