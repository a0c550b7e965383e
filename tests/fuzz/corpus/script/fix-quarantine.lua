-- Fix for kofmsp.fix.quarantine: move every copy of kofmsp.dll / KofMsp32.dll that fails the
-- seed's indicator table to the host's quarantine (host.file.remove: it can be put back).
-- A copy fails when it lies outside the Kerio folder, or is not validly signed by Kerio.
-- ASSUMPTION: genuine files are signed by a subject containing "Kerio" or "GFI" (the real
-- subject is not confirmed, fact sheet 12). The copies looked at are those a process has
-- loaded and the one in the Kerio folder; other copies are left to the full scan the
-- notification asks for.

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

local function genuine(path)       -- true, or false and why
  if not in_kerio_folder(path) then return false, "outside the Kerio folder" end
  local sig = host.file.signature(path)
  if type(sig) ~= "table" or sig.signed ~= true then return false, "not signed" end
  local signer = tostring(sig.signer or ""):lower()
  if not (signer:find("kerio", 1, true) or signer:find("gfi", 1, true)) then
    return false, "signed by " .. tostring(sig.signer)
  end
  if sig.valid ~= true then return false, "its signature is not valid" end
  return true
end

local function suspects()          -- { {path=, why=}, ... } of the copies on disk that fail
  local paths, seen, out = {}, {}, {}
  for _, c in ipairs(loaded_copies()) do paths[#paths + 1] = c.path end
  paths[#paths + 1] = kerio_dll()
  for _, path in ipairs(paths) do
    if not seen[path:lower()] and host.file.exists(path) then
      seen[path:lower()] = true
      local ok, why = genuine(path)
      if not ok then out[#out + 1] = { path = path, why = why } end
    end
  end
  return out
end

local fix = {}
local removed                      -- set by apply, read by verify

function fix.apply()
  removed = suspects()
  if #removed == 0 then error("no copy of kofmsp.dll fails the indicators: nothing to quarantine") end
  local lines, kerio_copy = {}, false
  for _, s in ipairs(removed) do
    host.file.remove(s.path)
    lines[#lines + 1] = s.path .. " (" .. s.why .. ")"
    kerio_copy = kerio_copy or in_kerio_folder(s.path)
  end
  host.ui.notify("Moved to quarantine: " .. table.concat(lines, "; ") .. ". Now disconnect the PC from the " ..
    "network and tell IT; run a Microsoft Defender Offline scan (Windows Security, Virus and threat " ..
    "protection, Scan options); restart the PC so no process keeps the file loaded; change your mail " ..
    "password from a clean device." ..
    (kerio_copy and " The copy in the Kerio folder was fake: reinstall the connector from your Kerio server." or ""))
end

function fix.verify()
  if not removed then return false, "nothing was quarantined in this run" end
  for _, s in ipairs(removed) do
    if host.file.exists(s.path) then return false, s.path .. " is still there" end
  end
  local left = suspects()
  if #left > 0 then return false, left[1].path .. " still fails the indicators: " .. left[1].why end
  return true
end

return fix
