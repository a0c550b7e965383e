-- Fix for kofmsp.fix.accept-upgrade, kofmsp.fix.manual-upgrade and kofmsp.fix.upgrade-both:
-- bring the connector to the server's build. tshoot cannot install it (the installer comes
-- from the Kerio Connect server), so apply shows the steps and waits for the person; verify
-- checks that the connector's version now equals the server's, compared on as many parts
-- as the server's version has.

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

-- the connector's version (Programs and Features, else KofMsp32.dll's), and the server's
-- (ASSUMPTION, invented: the connector keeps the version of the server it last synchronised
-- with in HKCU\Software\Kerio\Outlook Connector (Offline Edition), value ServerVersion)
local function versions()
  local key = uninstall_entry("kerio outlook connector")
  local client = key and host.registry.get(key, "DisplayVersion")
  if type(client) ~= "string" then
    local dll = kerio_dll()
    client = dll and host.file.version(dll)
  end
  local server = host.registry.get("HKCU\\Software\\Kerio\\Outlook Connector (Offline Edition)", "ServerVersion")
  return type(client) == "string" and client or nil, type(server) == "string" and server or nil
end

local function same_release(client, server)
  local want = select(2, server:gsub("%.", "")) + 1
  local parts = {}
  for n in client:gmatch("%d+") do
    if #parts < want then parts[#parts + 1] = n end
  end
  return #parts > 0 and tshoot.vercmp(table.concat(parts, "."), server) == 0
end

local fix = {}

function fix.apply()
  local client, server = versions()
  local updater = uninstall_entry("kerio updater service") ~= nil
  host.ui.notify("Upgrade the Kerio Outlook Connector" .. (client and (" (now " .. client .. ")") or "") ..
    " to the server's build" .. (server and (" " .. server) or "") .. ": start Outlook and accept the Kerio " ..
    "message that offers the upgrade. " ..
    (updater and "" or "The Kerio Updater Service is not installed on this PC, so this upgrade needs " ..
      "administrator rights once: ") ..
    "If no message comes, close Outlook, open your Kerio Connect server's address in a browser and, " ..
    "before logging in, download the connector from the integration options at the bottom of the login " ..
    "page; run it as administrator. If it converts the local database, keep free disk space of twice the " ..
    "size of %LOCALAPPDATA%\\Kerio\\Outlook Connector.")
  if not host.ui.confirm("Click OK once the connector is upgraded, to check its version.") then
    error("the connector was not upgraded")
  end
end

function fix.verify()
  local client, server = versions()
  if not client then return false, "the connector is not installed" end
  if not server then
    return false, "this PC does not know the server's version: compare " .. client .. " with it by hand"
  end
  if not same_release(client, server) then
    return false, "the connector is " .. client .. ", the server " .. server
  end
  if not kerio_dll() then return false, "KofMsp32.dll is missing after the upgrade" end
  return true
end

return fix
