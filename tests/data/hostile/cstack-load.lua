-- Tries: recursion through C with the parser's frames at every level: load()
-- whose reader function calls load() again.
-- Must: be a "stack overflow" script error on a TS_SANDBOX_MIN_STACK thread
-- (load returns it as its error; the script raises it).
-- expect: ERROR stack overflow
-- limits: instructions=10000000   (the library default: this tests the C stack, and
--   C-heavy descent on a fresh thread costs more CPU than the VM loop that the
--   default mode estimates instructions from; under ASan, over 1,000,000)
local function reader()
  local f, err = load(reader)
  if not f then error(err, 0) end
  return nil
end
local f, err = load(reader)
error(err)
