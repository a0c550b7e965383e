-- Tries: recursion through C: pcall inside pcall, 200 deep and more.
-- Must: each level catches "C stack overflow"; the script ends normally.
-- expect: OK survived
local function f() pcall(f) end
f()
return "survived"
