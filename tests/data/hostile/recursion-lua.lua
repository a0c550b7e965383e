-- Tries: endless Lua recursion with room to reach Lua's own stack limit.
-- Must: be Lua's "stack overflow" script error, not a crash.
-- limits: memory=65536 instructions=100000000000
-- expect: ERROR stack overflow
local function f(n) return 1 + f(n + 1) end
return f(1)
