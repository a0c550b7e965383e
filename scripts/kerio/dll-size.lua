-- Probe for question dll.size-kb: the size in KB (1024 bytes, rounded) of the kofmsp.dll
-- that is loaded (or of the one in the Kerio folder). The seed calls under 100 KB or over
-- 5 MB suspicious (an unconfirmed heuristic: the KB's fact dll.suspicious does the rating).

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

-- [helper dll, the same in every dll-*.lua: scripts cannot share code]
-- Which copy of kofmsp.dll / KofMsp32.dll the dll.* questions are about: a copy some
-- process has loaded from outside the Kerio folder first (the suspect), else the copy
-- loaded from the Kerio folder, else the file in the Kerio folder.
local function in_kerio_folder(path)
  local p = path:lower()
  if p:find("^%a:\\program files[^\\]*\\kerio\\") then return true end
  for _, dir in ipairs(kerio_dirs()) do
    if p:sub(1, #dir + 1) == dir:lower() .. "\\" then return true end
  end
  return false
end
local function loaded_copies()      -- { {path=, proc=}, ... } for every process that loaded one
  local out = {}
  for _, proc in ipairs(host.process.list() or {}) do
    for _, m in ipairs(proc.modules or {}) do
      local base = (tostring(m):match("[^\\]+$") or ""):lower()
      if base == "kofmsp.dll" or base == "kofmsp32.dll" then out[#out + 1] = { path = m, proc = proc } end
    end
  end
  return out
end
local function the_file()
  local inside
  for _, c in ipairs(loaded_copies()) do
    if not in_kerio_folder(c.path) then return c.path end
    inside = inside or c.path
  end
  return inside or kerio_dll()
end
-- [end helper dll]

local path = the_file()
local st = path and host.file.stat(path)
if type(st) ~= "table" or type(st.size) ~= "number" then return nil end
return math.floor(st.size / 1024 + 0.5)
