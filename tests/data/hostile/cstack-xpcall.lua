-- Tries: recursion through C: xpcall inside xpcall's handler inside xpcall.
-- Must: end normally: every level catches the C stack overflow.
-- expect: OK survived
local function f() xpcall(error, f) end
f()
return "survived"
