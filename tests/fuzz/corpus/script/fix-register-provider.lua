-- Fix for kofmsp.fix.reg-technician and mapi.fix.blocked-register: register the Kerio
-- provider again, with its full path, where Outlook reads it, and put the same path in
-- the Kerio sections of every mail profile that carries a wrong one (a profile copies the
-- registration when it is made, so a broken registration leaves broken profiles behind).
-- ASSUMPTION (a model, not documented by Kerio or Microsoft; scripts/README.md): the
-- registration (MapiSvc.inf's entry for the connector) is the registry key
--   HKLM\SOFTWARE[\WOW6432Node]\Microsoft\Windows Messaging Subsystem\Services\KOFF
-- with PR_SERVICE_DLL_NAME = "<Kerio folder>\kofmsp.dll" (no "32": MAPI appends it and
-- loads KofMsp32.dll; no other period in the path: MAPI inserts "32" at the first one),
-- and profile sections name it in 001f3d0a / 001f300a (PR_SERVICE_DLL_NAME_W /
-- PR_PROVIDER_DLL_NAME_W). Full paths work from Outlook 2010 on (Microsoft).
local SERVICE = "Microsoft\\Windows Messaging Subsystem\\Services\\KOFF"
local DISPLAY = "Kerio Outlook Connector (Offline Edition)"

-- [helper office, the same in every script that needs it: scripts cannot share code]
local function office()
  for _, key in ipairs{"HKLM\\SOFTWARE\\Microsoft\\Office\\ClickToRun\\Configuration",
                       "HKLM\\SOFTWARE\\Microsoft\\Office\\15.0\\ClickToRun\\Configuration"} do
    local ver = host.registry.get(key, "VersionToReport")
    if type(ver) == "string" then
      local bits = host.registry.get(key, "Platform")
      return { c2r = true, major = tonumber(ver:match("^(%d+)%.")),
               bitness = (bits == "x86" or bits == "x64") and bits or nil,
               products = tostring(host.registry.get(key, "ProductReleaseIds") or "") }
    end
  end
  for _, nn in ipairs{16, 15, 14, 12, 11, 10} do
    for _, root in ipairs{"HKLM\\SOFTWARE\\Microsoft\\Office\\", "HKLM\\SOFTWARE\\WOW6432Node\\Microsoft\\Office\\"} do
      local key = root .. nn .. ".0\\Outlook"
      local bits = host.registry.get(key, "Bitness")   -- written by Office 2010 and later
      if bits == "x86" or bits == "x64" or (nn < 14 and host.registry.values(key)) then
        return { c2r = false, major = nn, bitness = (bits == "x64") and "x64" or "x86" }
      end
    end
  end
end
-- [end helper office]

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

-- [helper profiles, the same in every script that needs it: scripts cannot share code]
-- Outlook 2013 and later keep mail profiles under HKCU\Software\Microsoft\Office\<NN>.0\
-- Outlook\Profiles\<name> and the default's name in that Outlook key's DefaultProfile;
-- Outlook 2010 and older under HKCU\...\Windows NT\CurrentVersion\Windows Messaging
-- Subsystem\Profiles, DefaultProfile in that Profiles key (fact sheet 7).
local function profiles_root(o)      -- the key that holds "Profiles", and where DefaultProfile is
  if o and o.major and o.major >= 15 then
    local root = "HKCU\\Software\\Microsoft\\Office\\" .. o.major .. ".0\\Outlook"
    return root, root
  end
  local root = "HKCU\\Software\\Microsoft\\Windows NT\\CurrentVersion\\Windows Messaging Subsystem"
  return root, root .. "\\Profiles"
end
-- [end helper profiles]

-- where the registration goes, and the path it must name
local function target()
  local o, info = office(), host.system.info() or {}
  if not o or not o.bitness then error("cannot tell whether Outlook is 32-bit or 64-bit") end
  if o.major and o.major < 14 then error("full provider paths need Outlook 2010 or later") end
  local _, dir = kerio_dll()
  if not dir or not host.file.exists(dir .. "\\KofMsp32.dll") then
    error("KofMsp32.dll is not in the Kerio folder: reinstall the connector instead")
  end
  if dir:find(".", 1, true) then error("MAPI cannot load a provider from a path with a period: " .. dir) end
  local view = (o.bitness == "x86" and info.arch == "x64") and "HKLM\\SOFTWARE\\WOW6432Node\\" or "HKLM\\SOFTWARE\\"
  return view .. SERVICE, dir .. "\\kofmsp.dll", o
end

-- every profile section value that names the Kerio provider by another path: {key, name}
local function stale_sections(o, path)
  local out, root = {}, profiles_root(o)
  for _, profile in ipairs(host.registry.keys(root .. "\\Profiles") or {}) do
    local pkey = root .. "\\Profiles\\" .. profile
    for _, section in ipairs(host.registry.keys(pkey) or {}) do
      for _, name in ipairs{ "001f3d0a", "001f300a" } do
        local v = host.registry.get(pkey .. "\\" .. section, name)
        if type(v) == "string" and v:lower():find("kofmsp%.dll$") and v ~= path then
          out[#out + 1] = { pkey .. "\\" .. section, name }
        end
      end
    end
  end
  return out
end

local fix = {}

function fix.apply()
  local key, path, o = target()
  host.registry.set(key, "PR_SERVICE_DLL_NAME", path)
  host.registry.set(key, "PR_DISPLAY_NAME", DISPLAY)
  for _, s in ipairs(stale_sections(o, path)) do host.registry.set(s[1], s[2], path) end
  host.ui.notify("The Kerio Outlook Connector is registered again as " .. path ..
                 ". Start Outlook; if the MAPI error stays, create a new profile.")
end

function fix.verify()
  local ok, key, path, o = pcall(target)
  if not ok then return false, key end
  local v = host.registry.get(key, "PR_SERVICE_DLL_NAME")
  if v ~= path then return false, "the registration names " .. tostring(v) .. ", not " .. path end
  local stale = stale_sections(o, path)
  if #stale > 0 then return false, stale[1][1] .. " still names another provider path" end
  return true
end

return fix
