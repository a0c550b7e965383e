-- Probe for question koff.updater-service: is "Kerio Updater Service" listed in Programs
-- and Features? That list is the Uninstall keys of both registry views, so the machine
-- can answer it exactly. Nil when the machine shows no Uninstall key at all.

-- [helper kerio, as in every script that needs it (here only uninstall_entry): scripts cannot share code]
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
-- [end helper kerio]

if uninstall_entry("kerio updater service") then return true end
for _, root in ipairs(UNINSTALL) do
  if host.registry.keys(root) then return false end
end
return nil
