-- Fix for koff.fix.local-cache: keep the connector's cache on the PC's own disk. Folder
-- redirection of AppData\Local is set by IT (Group Policy), so tshoot does not change it:
-- apply shows the steps and waits; verify checks that "Local AppData" (HKCU\...\Explorer\
-- User Shell Folders) is no longer a \\server\share path or a mapped network drive.
local SHELL = "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\User Shell Folders"

local function on_network()        -- true, false, or nil when it cannot tell
  local v = host.registry.get(SHELL, "Local AppData")
  if type(v) ~= "string" or v == "" then return nil end
  if v:sub(1, 2) == "\\\\" then return true, v end
  local drive = v:match("^(%a):")
  if drive then return host.registry.values("HKCU\\Network\\" .. drive:upper()) ~= nil, v end
  return false, v
end

local fix = {}

function fix.apply()
  local _, where = on_network()
  host.ui.notify("The connector's cache is in " .. tostring(where) .. "\\Kerio\\Outlook Connector, on the " ..
    "network. Ask IT to exclude AppData\\Local from folder redirection (or roaming) for your account, so " ..
    "the cache stays on this PC's own disk, preferably an SSD; GFI also advises at least 4 GB of RAM. " ..
    "Then sign out and in again, and start Outlook: the connector builds its cache on the local disk.")
  if not host.ui.confirm("Click OK once IT has made the change and you signed in again, to check it.") then
    error("the folder redirection was not changed")
  end
end

function fix.verify()
  local net, where = on_network()
  if net == nil then return false, "cannot tell where AppData\\Local is" end
  if net then return false, "AppData\\Local is still on the network: " .. where end
  return true
end

return fix
