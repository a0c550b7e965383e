-- Fix for kofmsp.fix.profile-clear-cache, koff.fix.clear-cache, koff.fix.av-clear-cache and
-- koff.fix.db-fresh-start: move the connector's cache of the default mail profile aside,
-- %LOCALAPPDATA%\Kerio\Outlook Connector\<profile> -> <profile>.old (GFI KB 123680 step 1;
-- one cache folder per profile, named after it), so the connector builds a new one from
-- the server. Moved, not deleted: mail not yet synchronised stays in the old folder.
-- Outlook and KoffBackend.exe must be closed: their files are in use while they run.
-- The files are moved one by one (a folder move is not in every host).
local SHELL = "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\User Shell Folders"
local SERVICE = "Microsoft\\Windows Messaging Subsystem\\Services\\KOFF"

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
local from, to, moved        -- set by apply, read by verify

function fix.apply()
  local o, info = office(), host.system.info() or {}
  if not o then error("cannot tell which Outlook is installed") end
  -- Outlook opens a Kerio cache only through the registered provider: with the
  -- registration gone (an update rewrote MAPI's services), moving the cache
  -- cannot help, and a new one would never be built. Both registry views when
  -- Outlook's bitness is unknown.
  local views = { "HKLM\\SOFTWARE\\WOW6432Node\\", "HKLM\\SOFTWARE\\" }
  if o.bitness == "x64" or info.arch ~= "x64" then views = { "HKLM\\SOFTWARE\\" }
  elseif o.bitness == "x86" then views = { "HKLM\\SOFTWARE\\WOW6432Node\\" } end
  local registered = false
  for _, view in ipairs(views) do
    if type(host.registry.get(view .. SERVICE, "PR_SERVICE_DLL_NAME")) == "string" then registered = true end
  end
  if not registered then
    error("the Kerio provider is not registered with MAPI, so Outlook cannot open any Kerio cache: repair the registration first")
  end
  local _, default_key = profiles_root(o)
  local profile = host.registry.get(default_key, "DefaultProfile")
  if type(profile) ~= "string" then error("there is no default mail profile") end
  local lad = tostring(host.registry.get(SHELL, "Local AppData") or "%USERPROFILE%\\AppData\\Local")
  lad = lad:gsub("%%(%w+)%%", function(var)
    if var:upper() == "USERPROFILE" and info.user then return "C:\\Users\\" .. info.user end
  end)
  if lad:find("%", 1, true) then error("cannot tell where %LOCALAPPDATA% is: " .. lad) end
  for _, p in ipairs(host.process.list() or {}) do
    local name = tostring(p.name or ""):lower()
    if name == "outlook.exe" or name == "koffbackend.exe" then
      error(p.name .. " is running: close Outlook and wait until KoffBackend.exe has exited, then try again")
    end
  end
  from = lad .. "\\Kerio\\Outlook Connector\\" .. profile
  moved = host.file.list(from)
  if not moved or #moved == 0 then error("there is no cache at " .. from) end
  to = from .. ".old"
  local n = 2
  while host.file.list(to) do
    to = from .. ".old" .. n
    n = n + 1
  end
  for i, name in ipairs(moved) do
    host.ui.progress(i / #moved, name)
    host.file.move(from .. "\\" .. name, to .. "\\" .. name)
  end
  host.ui.notify("The connector's cache for profile '" .. profile .. "' is now in " .. to ..
                 ". Start Outlook: the connector downloads your mailbox again from the server (this can " ..
                 "take a while). Delete the old folder once everything is back.")
end

function fix.verify()
  if not from then return false, "nothing was moved in this run" end
  local left = host.file.list(from)
  if left and #left > 0 then return false, from .. " still holds " .. left[1] end
  for _, name in ipairs(moved) do
    if not host.file.exists(to .. "\\" .. name) then return false, name .. " is not in " .. to end
  end
  return true
end

return fix
