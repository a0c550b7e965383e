-- Tries: table.sort of 100,000 elements each read through a 2000-deep __index
-- chain (Lua's own sort reads them in one C call: 49 s for 200,000).
-- Must: end with a limit, quickly: the reads are counted (the instruction
-- estimate in default mode; in exact mode chain lookups are not instructions,
-- and the deadline stops it).
-- limits: time=300
-- expect: ELIMIT instruction|time
local base = {}
for i = 1, 100000 do base[i] = i end
local t = base
for i = 1, 1998 do t = setmetatable({}, { __index = t }) end
local top = setmetatable({}, { __index = t, __len = function() return 100000 end })
table.sort(top)
