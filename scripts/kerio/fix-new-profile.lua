-- Fix for kofmsp.fix.new-profile, kofmsp.fix.reg-new-profile and koff.fix.recreate-profile:
-- build a clean mail profile with the Kerio service, make it the default, keep the old one.
-- Outlook 2013 and later only (HKCU\Software\Microsoft\Office\<NN>.0\Outlook\Profiles).
-- Like MAPI, the new profile copies the provider's path from the machine's registration,
-- so a broken registration makes a broken profile: verify checks that the new profile names
-- a full path to a KofMsp32.dll that exists, which is what Outlook needs to load it.
-- ASSUMPTION (a model; scripts/README.md): the registration is the key
-- HKLM\SOFTWARE[\WOW6432Node]\Microsoft\Windows Messaging Subsystem\Services\KOFF
-- (PR_SERVICE_DLL_NAME), and a Kerio profile is a service section (001f3d09 service name,
-- 001f3d0a its DLL, plus the account's ServerAddress and UserName), a message-store and a
-- transport section (001f300a) and an account entry under 9375CFF0413111d3B88A00104B2A6676
-- (that account list is documented; the Kerio values and the section UIDs are invented).
-- The account settings are copied from the old profile when it still has them; otherwise
-- the person sets the account up (notify).
local SERVICE = "Microsoft\\Windows Messaging Subsystem\\Services\\KOFF"
local SVC, STORE, XPORT = "1a6c0e4b2f8d4e5b9c7a3d2e1f0b4c6a", "2b7d1f5c3a9e4f6c8d0b4e3f2a1c5d7b",
                          "3c8e2a6d4b0f4a7d9e1c5f4a3b2d6e8c"
local ACCOUNTS = "9375CFF0413111d3B88A00104B2A6676"

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

local fix = {}
local root, default_key, new, old     -- set by apply, read by verify

function fix.apply()
  local o, info = office(), host.system.info() or {}
  if not o or not o.major or o.major < 15 or not o.bitness then
    error("this fix builds profiles for Outlook 2013 and later only")
  end
  root, default_key = profiles_root(o)
  local view = (o.bitness == "x86" and info.arch == "x64") and "HKLM\\SOFTWARE\\WOW6432Node\\" or "HKLM\\SOFTWARE\\"
  local dll = host.registry.get(view .. SERVICE, "PR_SERVICE_DLL_NAME")
  if type(dll) ~= "string" then
    error("the Kerio provider is not registered, so a new profile would not get it: repair the registration first")
  end
  -- the account settings, from the old default profile's sections if it kept them
  old = host.registry.get(default_key, "DefaultProfile")
  local server, user
  if type(old) == "string" then
    local pkey = root .. "\\Profiles\\" .. old
    for _, section in ipairs(host.registry.keys(pkey) or {}) do
      server = server or host.registry.get(pkey .. "\\" .. section, "ServerAddress")
      user = user or host.registry.get(pkey .. "\\" .. section, "UserName")
    end
  else
    old = nil
  end
  -- a name no profile has yet
  new = "Kerio new"
  local n = 2
  while host.registry.values(root .. "\\Profiles\\" .. new) do
    new = "Kerio new " .. n
    n = n + 1
  end
  local p = root .. "\\Profiles\\" .. new .. "\\"
  host.registry.set(p .. SVC, "001f3d09", "KOFF")
  host.registry.set(p .. SVC, "001f3d0a", dll)
  host.registry.set(p .. SVC, "001f3001", "Kerio Outlook Connector (Offline Edition)")
  if type(server) == "string" then host.registry.set(p .. SVC, "ServerAddress", server) end
  if type(user) == "string" then host.registry.set(p .. SVC, "UserName", user) end
  host.registry.set(p .. STORE, "001f300a", dll)
  host.registry.set(p .. STORE, "001f3001", "Kerio Connect mailbox")
  host.registry.set(p .. XPORT, "001f300a", dll)
  host.registry.set(p .. XPORT, "001f3001", "Kerio Connect transport")
  host.registry.set(p .. ACCOUNTS .. "\\00000001", "Account Name",
                    type(user) == "string" and user or "Kerio Connect")
  host.registry.set(p .. ACCOUNTS .. "\\00000001", "Service UID", SVC)
  host.registry.set(default_key, "DefaultProfile", new)
  if type(server) == "string" and type(user) == "string" then
    host.ui.notify("Outlook now starts with the new profile '" .. new .. "' (account " .. user .. " on " ..
                   server .. "). The old profile" .. (old and (" '" .. old .. "'") or "") ..
                   " is kept: remove it in Control Panel, Mail, Show Profiles once the new one works.")
  else
    host.ui.notify("Outlook now starts with the new profile '" .. new .. "'. Set up your Kerio account in it: " ..
                   "open your Kerio Connect server's login page and use the Outlook entry of the integration " ..
                   "options at the bottom. The old profile is kept.")
  end
end

function fix.verify()
  if not new then return false, "no profile was made in this run" end
  if host.registry.get(default_key, "DefaultProfile") ~= new then
    return false, "the default profile is not '" .. new .. "'"
  end
  local p = root .. "\\Profiles\\" .. new .. "\\"
  local dll = host.registry.get(p .. SVC, "001f3d0a")
  if type(dll) ~= "string" or not dll:find("^%a:\\") or not dll:lower():find("\\kofmsp%.dll$") then
    return false, "the new profile names the provider as '" .. tostring(dll) ..
                  "', without its full path: Outlook 2013 and later cannot load it (repair the registration)"
  end
  local file = dll:sub(1, -#"kofmsp.dll" - 1) .. "KofMsp32.dll"   -- the file MAPI loads
  if not host.file.exists(file) then return false, file .. " does not exist" end
  if host.registry.get(p .. STORE, "001f300a") ~= dll or host.registry.get(p .. XPORT, "001f300a") ~= dll then
    return false, "the new profile's store or transport section is missing"
  end
  if old and not host.registry.values(root .. "\\Profiles\\" .. old) then
    return false, "the old profile '" .. old .. "' is gone"
  end
  return true
end

return fix
