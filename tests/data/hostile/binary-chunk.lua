-- Tries: to load a binary chunk (bytecode is not verified: a crafted one
-- corrupts memory) with load() from a string, from a reader function, and with
-- mode "b" or "bt".
-- Must: be refused every time; the script then answers "refused".
-- expect: OK refused
local header = "\27Lua\84\0\25\147\13\10\26\10\4\8\8\120\86\0\0\0\0\0\0\0\0\0\0\0\40\119\64\1"
local f, err = load(header .. "junk")
assert(f == nil and err:find("binary"), err)
f, err = load(header, "x", "b")
assert(f == nil and err:find("binary"), err)
f, err = load(header, "x", "bt")
assert(f == nil and err:find("binary"), err)
local sent = false
f, err = load(function() if sent then return nil end sent = true return header end)
assert(f == nil and err:find("binary"), err)
return "refused"
