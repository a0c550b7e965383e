-- Tries: to swallow the memory limit with pcall (luaL_Buffer raises a plain
-- "not enough memory" error, not LUA_ERRMEM) and go on.
-- Must: end with the memory limit.
-- limits: instructions=1000000000
-- expect: ELIMIT memory
for i = 1, 10 do pcall(string.rep, "x", 1e8) end
return "swallowed"
