-- Fix for koff.fix.av-exclusions and koff.fix.cache-av-exclusions: exclude the folders GFI
-- lists from Microsoft Defender's scans: the connector's folder, the updater's (when it is
-- installed) and %LOCALAPPDATA%\Kerio\Outlook Connector. They are written the way the Group
-- Policy setting "Path Exclusions" stores them: Exclusions_Paths = 1 (DWORD) in
-- HKLM\SOFTWARE\Policies\Microsoft\Windows Defender\Exclusions and one value per folder,
-- named by the path, data "0", in its Paths subkey (ASSUMPTION: the layout of Microsoft's
-- Defender policy template, from memory; check on a real PC). A domain's Group Policy may
-- overwrite that key; verify then fails. Other security products need the same exclusions.
local POLICY = "HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows Defender\\Exclusions"
local LISTS = { "HKLM\\SOFTWARE\\Microsoft\\Windows Defender\\Exclusions\\Paths", POLICY .. "\\Paths" }
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

local function expand(p, lad)      -- %USERPROFILE% and %LOCALAPPDATA%; nil if another is left
  local info = host.system.info() or {}
  p = p:gsub("%%(%w+)%%", function(var)
    var = var:upper()
    if var == "USERPROFILE" and info.user then return "C:\\Users\\" .. info.user end
    if var == "LOCALAPPDATA" then return lad end
  end)
  if p:find("%", 1, true) then return nil end
  return (p:gsub("\\+$", ""))
end

-- the folders to exclude, and those no exclusion covers yet
local function missing()
  local lad = expand(tostring(host.registry.get(SHELL, "Local AppData") or "%USERPROFILE%\\AppData\\Local"))
  if not lad then error("cannot tell where %LOCALAPPDATA% is") end
  local _, dir = kerio_dll()
  local need = { dir or kerio_dirs()[1] }
  local upd = uninstall_entry("kerio updater service")
  if upd then
    local loc = host.registry.get(upd, "InstallLocation")
    need[#need + 1] = type(loc) == "string" and loc ~= "" and (loc:gsub("\\+$", ""))
                      or "C:\\Program Files (x86)\\Kerio\\UpdaterService"
  end
  need[#need + 1] = lad .. "\\Kerio\\Outlook Connector"
  local excluded = {}
  for _, list in ipairs(LISTS) do
    for path in pairs(host.registry.values(list) or {}) do
      local e = expand(path, lad)
      if e then excluded[#excluded + 1] = e:lower() end
    end
  end
  local out = {}
  for _, folder in ipairs(need) do
    local f, covered = folder:lower(), false
    for _, e in ipairs(excluded) do
      if f == e or f:sub(1, #e + 1) == e .. "\\" then covered = true end
    end
    if not covered then out[#out + 1] = folder end
  end
  return out
end

local fix = {}

function fix.apply()
  if not host.service.get("WinDefend") then error("Microsoft Defender is not on this PC: add the exclusions in your security product") end
  local todo = missing()
  if #todo == 0 then
    error("the Kerio folders are already excluded in Microsoft Defender: check your other security products")
  end
  host.registry.set(POLICY, "Exclusions_Paths", 1)
  for _, folder in ipairs(todo) do host.registry.set(POLICY .. "\\Paths", folder, "0") end
  host.ui.notify("Microsoft Defender now skips " .. table.concat(todo, ", ") .. ". Add the same exclusions " ..
                 "in any other security product on this PC, then restart it and start Outlook.")
end

function fix.verify()
  local ok, todo = pcall(missing)
  if not ok then return false, todo end
  if #todo > 0 then return false, todo[1] .. " is still scanned by Microsoft Defender" end
  return true
end

return fix
