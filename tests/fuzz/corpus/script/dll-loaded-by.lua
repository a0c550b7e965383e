-- Probe for question dll.loaded-by: which processes have a kofmsp.dll / KofMsp32.dll
-- loaded (what "tasklist /m" shows). The worst one answers: a script runner (PowerShell,
-- wscript, cscript, mshta) is malicious, any process that is neither Outlook nor Kerio's
-- (svchost.exe, rundll32.exe...) is suspicious, then a Kerio process, then Outlook alone.
-- Nil when no process has it loaded (Outlook closed, or it failed to load the provider).
local SCRIPT_RUNNERS = { ["powershell.exe"] = true, ["pwsh.exe"] = true, ["wscript.exe"] = true,
                         ["cscript.exe"] = true, ["mshta.exe"] = true }

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

-- [helper dll, as in every dll-*.lua (here without the_file): scripts cannot share code]
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
-- [end helper dll]

local rank = { outlook = 1, kerio = 2, unknown = 3, script = 4 }
local worst
for _, c in ipairs(loaded_copies()) do
  local name = tostring(c.proc.name or ""):lower()
  local kind
  if SCRIPT_RUNNERS[name] then kind = "script"
  elseif name == "outlook.exe" then kind = "outlook"
  elseif name == "koffbackend.exe" or (c.proc.path and in_kerio_folder(c.proc.path)) then kind = "kerio"
  else kind = "unknown" end
  if not worst or rank[kind] > rank[worst] then worst = kind end
end
return worst
