-- Tries: to swallow an out-of-memory error (LUA_ERRMEM) with pcall and go on.
-- Must: end with the memory limit.
-- limits: instructions=1000000000
-- expect: ELIMIT memory
local ok = pcall(function()
  local t = {}
  for i = 1, 1e9 do t[i] = { i } end
end)
local again = {}
return "swallowed " .. tostring(ok)
