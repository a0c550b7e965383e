-- Tries: recursion through C: xpcall inside xpcall's handler inside xpcall.
-- Must: end normally: every level catches the C stack overflow.
-- expect: OK survived
-- limits: instructions=10000000   (the library default: this tests the C stack, and
--   C-heavy descent on a fresh thread costs more CPU than the VM loop that the
--   default mode estimates instructions from; under ASan, over 1,000,000)
local function f() xpcall(error, f) end
f()
return "survived"
