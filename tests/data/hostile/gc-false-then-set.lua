-- Tries: the {__gc = false} trick (Lua marks the object for finalization because
-- the field is not nil; a function put there later would be called), and a
-- metatable that gets __gc only after setmetatable.
-- Must: refuse the first; the second object is never marked, so its finalizer
-- never runs (no note), not even at lua_close; the run ends normally.
-- notes: 0
-- expect: OK not marked
local ok, err = pcall(setmetatable, {}, { __gc = false })
assert(not ok and err:find("__gc"), err)
local mt = {}
local o = setmetatable({}, mt)
mt.__gc = function() print("finalizer ran") while true do end end
o = nil
local junk = {}
for i = 1, 1000 do junk[i] = { i } end
return "not marked"
