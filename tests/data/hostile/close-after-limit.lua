-- Tries: a looping __close that runs while the instruction limit's error unwinds.
-- Must: end with the instruction limit, quickly.
-- expect: ELIMIT instruction
local mt = {}
local o = setmetatable({}, mt)
mt.__close = function() while true do end end
do
  local x <close> = o
  while true do end
end
