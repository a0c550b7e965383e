-- Probe for question koff.cache-on-network: is %LOCALAPPDATA% (where the connector keeps
-- its cache, AppData\Local\Kerio\Outlook Connector) on a network share? Folder redirection
-- writes the folder's path to "Local AppData" under HKCU\...\Explorer\User Shell Folders:
-- a \\server\share path is on the network, and so is a drive letter that is a mapped
-- network drive (HKCU\Network\<letter>). Roaming profiles alone keep AppData\Local on the PC.
local SHELL = "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\User Shell Folders"
local v = host.registry.get(SHELL, "Local AppData")
if type(v) ~= "string" then
  v = host.registry.get("HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\Shell Folders",
                        "Local AppData")
end
if type(v) ~= "string" or v == "" then return nil end
if v:sub(1, 2) == "\\\\" then return true end
local drive = v:match("^(%a):")
if drive then return host.registry.values("HKCU\\Network\\" .. drive:upper()) ~= nil end
local lower = v:lower()
if lower:find("%userprofile%", 1, true) == 1 or lower:find("%systemdrive%", 1, true) == 1 then
  return false
end
return nil
