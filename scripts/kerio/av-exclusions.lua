-- Probe for question av.exclusions: are the folders GFI lists excluded from Microsoft
-- Defender's scans? The install folder, C:\Program Files (x86)\Kerio\UpdaterService (when
-- the updater is installed) and %LOCALAPPDATA%\Kerio\Outlook Connector, each covered by a
-- path in Defender's exclusions (HKLM\SOFTWARE\Microsoft\Windows Defender\Exclusions\Paths,
-- or the Group Policy list under HKLM\SOFTWARE\Policies\Microsoft\Windows Defender-- Exclusions\Paths; value names are the paths). Nil when Defender is not there.
-- LIMIT: other security products keep their exclusions elsewhere; "yes" means Defender only.
local LISTS = { "HKLM\\SOFTWARE\\Microsoft\\Windows Defender\\Exclusions\\Paths",
                "HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows Defender\\Exclusions\\Paths" }
local SHELL = "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\User Shell Folders"

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

local info = host.system.info() or {}
local function expand(p, lad)    -- %USERPROFILE% and %LOCALAPPDATA%; nil if another is left
  p = p:gsub("%%(%w+)%%", function(var)
    var = var:upper()
    if var == "USERPROFILE" and info.user then return "C:\\Users\\" .. info.user end
    if var == "LOCALAPPDATA" then return lad end
  end)
  if p:find("%", 1, true) then return nil end
  return (p:gsub("\\+$", ""))
end
-- where %LOCALAPPDATA% is: its User Shell Folders entry (folder redirection) or the default
local lad = expand(tostring(host.registry.get(SHELL, "Local AppData") or "%USERPROFILE%\\AppData\\Local"))
if not lad then return nil end

if not host.service.get("WinDefend") and not host.registry.values(LISTS[1]) then return nil end
local excluded = {}
for _, list in ipairs(LISTS) do
  for path in pairs(host.registry.values(list) or {}) do
    local e = expand(path, lad)
    if e then excluded[#excluded + 1] = e:lower() end
  end
end
local function covered(folder)
  local f = folder:lower()
  for _, e in ipairs(excluded) do
    if f == e or f:sub(1, #e + 1) == e .. "\\" then return true end
  end
  return false
end

local _, dir = kerio_dll()
local need = { dir or kerio_dirs()[1] }
local upd = uninstall_entry("kerio updater service")
if upd then
  local loc = host.registry.get(upd, "InstallLocation")
  need[#need + 1] = type(loc) == "string" and loc ~= "" and (loc:gsub("\\+$", ""))
                    or "C:\\Program Files (x86)\\Kerio\\UpdaterService"
end
need[#need + 1] = lad .. "\\Kerio\\Outlook Connector"
for _, folder in ipairs(need) do
  if not covered(folder) then return false end
end
return true
