-- Fix for kofmsp.fix.os-rollback-koff: go back to the connector build that worked on this
-- (older) Windows. tshoot cannot install it, so apply notes the version now installed,
-- shows the steps and waits for the person; verify checks that an older connector than
-- that is now installed (in a run that only verifies, without apply, it cannot tell).

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

local fix = {}
local before                       -- the version apply found

function fix.apply()
  before = versions()
  host.ui.notify("Ask your mail administrator first: the server checks connector versions. Then close " ..
    "Outlook, press Windows+R, type appwiz.cpl, press Enter, uninstall \"Kerio Outlook Connector\"" ..
    (before and (" (" .. before .. ")") or "") .. ", and install the previous connector installer your " ..
    "administrator gives you, as administrator. When Outlook offers the upgrade again, decline it until " ..
    "this PC runs a Windows version the connector supports.")
  if not host.ui.confirm("Click OK once the older connector is installed, to check its version.") then
    error("the connector was not changed")
  end
end

function fix.verify()
  local now = versions()
  if not before then return false, "apply did not run in this run: cannot tell which version to compare with" end
  if not now then return false, "no connector is installed now" end
  if tshoot.vercmp(now, before) >= 0 then
    return false, "the connector is still " .. now .. ", not older than " .. before
  end
  if not kerio_dll() then return false, "KofMsp32.dll is missing" end
  return true
end

return fix
