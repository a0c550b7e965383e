-- Tries: to reach a host function after the instruction limit broke: hostfn as
-- the __close of a variable, called from C while the limit's error unwinds, with
-- no instruction in between for the hook.
-- Must: end with the instruction limit; hostfn (which calls ts_sandbox_check
-- first) does nothing.
-- host-calls: 0
-- expect: ELIMIT instruction
local mt = {}
local o = setmetatable({}, mt)
mt.__close = hostfn
do
  local x <close> = o
  while true do end
end
