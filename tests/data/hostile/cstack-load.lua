-- Tries: recursion through C with the parser's frames at every level: load()
-- whose reader function calls load() again.
-- Must: be a "stack overflow" script error on a TS_SANDBOX_MIN_STACK thread
-- (load returns it as its error; the script raises it).
-- expect: ERROR stack overflow
local function reader()
  local f, err = load(reader)
  if not f then error(err, 0) end
  return nil
end
local f, err = load(reader)
error(err)
