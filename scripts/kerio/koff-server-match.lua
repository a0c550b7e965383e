-- Probe for question koff.server-match: is the connector the same release as the server?
-- The connector's version comes from its uninstall entry (or KofMsp32.dll's version).
-- ASSUMPTION (invented, not in the seed or GFI's documentation): the connector keeps the
-- version of the Kerio Connect server it last synchronised with in
-- HKCU\Software\Kerio\Outlook Connector (Offline Edition), value ServerVersion. Without
-- it the machine cannot tell, and the person (or the administrator) is asked.
-- The versions are compared on as many parts as the server's value has, so a server
-- "10.0.6" matches a connector "10.0.6.8504".
local SERVER_KEY = "HKCU\\Software\\Kerio\\Outlook Connector (Offline Edition)"

-- [helper kerio, the same in every script that needs it: scripts cannot share code]
-- The connector's uninstall entry (32-bit view first: its default folder is in Program Files
-- (x86), so its installer is presumably 32-bit) and the
-- folders its provider may be in: its InstallLocation, then GFI's default folder, then the
-- Program Files one that some reports name for 64-bit Office (unconfirmed).
local UNINSTALL = { "HKLM\\SOFTWARE\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall",
                    "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall" }
local function uninstall_entry(words)   -- the first entry whose DisplayName contains `words`
  for _, root in ipairs(UNINSTALL) do
    for _, sub in ipairs(host.registry.keys(root) or {}) do
      local name = host.registry.get(root .. "\\" .. sub, "DisplayName")
      if type(name) == "string" and name:lower():find(words, 1, true) then
        return root .. "\\" .. sub
      end
    end
  end
end
local function kerio_dirs()
  local dirs, key = {}, uninstall_entry("kerio outlook connector")
  local loc = key and host.registry.get(key, "InstallLocation")
  if type(loc) == "string" and loc ~= "" then dirs[#dirs + 1] = (loc:gsub("\\+$", "")) end
  dirs[#dirs + 1] = "C:\\Program Files (x86)\\Kerio\\Outlook Connector (Offline Edition)"
  dirs[#dirs + 1] = "C:\\Program Files\\Kerio\\Outlook Connector (Offline Edition)"
  return dirs
end
local function kerio_dll()   -- the provider file in a Kerio folder, and that folder, or nil
  for _, dir in ipairs(kerio_dirs()) do
    for _, name in ipairs{ "KofMsp32.dll", "kofmsp.dll" } do   -- MAPI loads kofmsp.dll as KofMsp32.dll
      if host.file.exists(dir .. "\\" .. name) then return dir .. "\\" .. name, dir end
    end
  end
end
-- [end helper kerio]

local server = host.registry.get(SERVER_KEY, "ServerVersion")
local key = uninstall_entry("kerio outlook connector")
local client = key and host.registry.get(key, "DisplayVersion")
if type(client) ~= "string" then
  local dll = kerio_dll()
  client = dll and host.file.version(dll)
end
if type(server) ~= "string" or type(client) ~= "string" then return nil end
if not server:match("^%d+[%.%d]*$") then return nil end
local want = select(2, server:gsub("%.", "")) + 1
local parts = {}
for n in client:gmatch("%d+") do
  if #parts < want then parts[#parts + 1] = n end
end
if #parts == 0 then return nil end
local c = tshoot.vercmp(table.concat(parts, "."), server)
if c == 0 then return "same" end
return c < 0 and "client-older" or "client-newer"
