-- Probe for question dll.exists: is the connector's MAPI provider file (KofMsp32.dll, or
-- kofmsp.dll as the seed names it) in a Kerio folder: the connector's InstallLocation,
-- C:\Program Files (x86)\Kerio\Outlook Connector (Offline Edition) (GFI's default) or the
-- same under C:\Program Files (named for 64-bit Office by one report only: unconfirmed)?

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

return kerio_dll() ~= nil
