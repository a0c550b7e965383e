-- Tries: recursion through C: pcall inside pcall, 200 deep and more.
-- Must: each level catches "C stack overflow"; the script ends normally.
-- expect: OK survived
-- limits: instructions=10000000   (the library default: this tests the C stack, and
--   C-heavy descent on a fresh thread costs more CPU than the VM loop that the
--   default mode estimates instructions from; under ASan, over 1,000,000)
local function f() pcall(f) end
f()
return "survived"
