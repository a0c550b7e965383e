-- Tries: a looping __close that runs while a plain error unwinds to the host.
-- Must: end with the instruction limit (hooks are on while the call unwinds).
-- expect: ELIMIT instruction
local mt = {}
local o = setmetatable({}, mt)
mt.__close = function() while true do end end
do
  local x <close> = o
  error("boom")
end
