-- Tries: every library and function a sandbox must not have (io, os, debug,
-- package, require, dofile, loadfile, collectgarbage, coroutine, warn, and the
-- old 5.1 names), by name and by walking _G.
-- Must: find exactly the documented globals (docs/scripts.md, "The sandbox"),
-- plus the test's hostfn.
-- expect: OK clean
local gone = { "io", "os", "debug", "package", "require", "dofile", "loadfile",
  "collectgarbage", "coroutine", "warn", "module", "loadstring", "setfenv",
  "getfenv", "unpack", "newproxy", "gcinfo", "jit", "bit32", "arg" }
for _, name in ipairs(gone) do assert(_G[name] == nil, name .. " is reachable") end
local allowed = {}
for name in ("assert error getmetatable ipairs load next pairs pcall print rawequal " ..
    "rawget rawlen rawset select setmetatable tonumber tostring type xpcall _G " ..
    "_VERSION string table math utf8 hostfn"):gmatch("%S+") do
  allowed[name] = true
end
for name in pairs(_G) do assert(allowed[name], "unexpected global " .. tostring(name)) end
for name in pairs(allowed) do assert(_G[name] ~= nil, "missing global " .. name) end
return "clean"
