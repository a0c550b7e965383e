-- Tries: a looping __close that runs while pcall unwinds.
-- Must: end with the instruction limit.
-- expect: ELIMIT instruction
local mt = {}
local o = setmetatable({}, mt)
mt.__close = function() while true do end end
pcall(function()
  local x <close> = o
  error("boom")
end)
return "survived"
