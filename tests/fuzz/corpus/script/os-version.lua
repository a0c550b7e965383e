-- Probe for question os.version: the Windows version, from host.system.info().
-- Windows 11 still reports version 10.0: it is told apart by its build (22000 and later).
-- Any Windows Server edition answers "server".
local info = host.system.info()
local os_ = info and info.os
if not os_ or type(os_.version) ~= "string" then return nil end
local label = (tostring(os_.name or "") .. " " .. tostring(os_.edition or "")):lower()
if label:find("server", 1, true) then return "server" end
local v, build = os_.version, tonumber(os_.build)
if v == "10.0" then
  if not build then return nil end
  return build >= 22000 and "win11" or "win10"
end
local names = { ["6.3"] = "win8", ["6.2"] = "win8", ["6.1"] = "win7", ["6.0"] = "vista",
                ["5.2"] = "xp", ["5.1"] = "xp" }       -- 5.2: XP x64 (Server 2003 says "server")
return names[v]
