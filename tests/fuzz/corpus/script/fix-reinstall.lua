-- Fix for kofmsp.fix.reinstall, kofmsp.fix.reg-reinstall, mapi.fix.blocked-reinstall and
-- mapi.fix.bitness-reinstall: a reinstall tshoot cannot do itself (the installer comes from
-- the Kerio Connect server's login page), so apply shows the steps and waits for the
-- person; verify then checks what a good installation leaves behind:
--   KofMsp32.dll in the Kerio folder, validly signed by Kerio (ASSUMPTION: the signer's
--     name contains "Kerio" or "GFI"; not confirmed);
--   the connector's uninstall entry in the registry view of Outlook's bitness (a 32-bit
--     installer writes under WOW6432Node on 64-bit Windows), so it can load into Outlook;
--   the provider registered with its full path (ASSUMPTION: the registration key modelled
--     in scripts/README.md, HKLM\SOFTWARE[\WOW6432Node]\Microsoft\Windows Messaging
--     Subsystem\Services\KOFF, value PR_SERVICE_DLL_NAME).
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

local function check()
  local o, info = office(), host.system.info() or {}
  if not o or not o.bitness then return false, "cannot tell whether Outlook is 32-bit or 64-bit" end
  local _, dir = kerio_dll()
  local file = dir and (dir .. "\\KofMsp32.dll")
  if not file or not host.file.exists(file) then return false, "KofMsp32.dll is not in the Kerio folder" end
  local sig = host.file.signature(file) or {}
  local signer = tostring(sig.signer or ""):lower()
  if sig.signed ~= true or sig.valid ~= true or not (signer:find("kerio", 1, true) or signer:find("gfi", 1, true)) then
    return false, file .. " is not validly signed by Kerio"
  end
  local wow = o.bitness == "x86" and info.arch == "x64"   -- Outlook's own registry view
  local root = UNINSTALL[wow and 1 or 2]
  local installed = false
  for _, sub in ipairs(host.registry.keys(root) or {}) do
    local name = host.registry.get(root .. "\\" .. sub, "DisplayName")
    if type(name) == "string" and name:lower():find("kerio outlook connector", 1, true) then installed = true end
  end
  if not installed then
    return false, "no connector for " .. (o.bitness == "x64" and "64" or "32") .. "-bit Outlook is installed"
  end
  local view = wow and "HKLM\\SOFTWARE\\WOW6432Node\\" or "HKLM\\SOFTWARE\\"
  local reg = host.registry.get(view .. SERVICE, "PR_SERVICE_DLL_NAME")
  if type(reg) ~= "string" or reg:lower() ~= (dir .. "\\kofmsp.dll"):lower() then
    return false, "the provider is not registered with its full path (" .. tostring(reg) .. ")"
  end
  return true
end

local fix = {}

function fix.apply()
  local o = office()
  local bits = (o and o.bitness == "x64") and "64-bit" or "32-bit"
  host.ui.notify("Reinstall the Kerio Outlook Connector: 1. Close Outlook; in Task Manager end OUTLOOK.EXE " ..
    "and KoffBackend.exe if they still run. 2. Press Windows+R, type appwiz.cpl, press Enter, select " ..
    "\"Kerio Outlook Connector\" and click Uninstall (your mailbox on the server is not touched). " ..
    "3. Restart Windows. 4. Open your Kerio Connect server's address in a browser and, before logging in, " ..
    "download the connector for " .. bits .. " Outlook from the integration options at the bottom of the " ..
    "login page. 5. Run the installer as administrator and finish it.")
  if not host.ui.confirm("Click OK once the connector is reinstalled, to check the installation.") then
    error("the connector was not reinstalled")
  end
end

function fix.verify()
  return check()
end

return fix
