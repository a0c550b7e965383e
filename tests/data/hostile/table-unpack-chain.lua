-- Tries: table.unpack of 100,000 elements each read through a 2000-deep
-- __index chain (seconds in one C call).
-- Must: end with a limit, quickly (see table-sort-chain.lua).
-- limits: time=300
-- expect: ELIMIT instruction|time
local base = {}
for i = 1, 100000 do base[i] = i end
local t = base
for i = 1, 1998 do t = setmetatable({}, { __index = t }) end
local top = setmetatable({}, { __index = t, __len = function() return 100000 end })
return select("#", table.unpack(top, 1, 100000))
