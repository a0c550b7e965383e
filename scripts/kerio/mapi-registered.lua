-- Probe: is the Kerio MAPI provider registered so that Outlook can load it? No KB question
-- takes this answer yet (see scripts/README.md: a yes/no question "mapi.registered" would).
-- ASSUMPTION (a model, not documented by Kerio or Microsoft): the service registration
-- Outlook reads (MapiSvc.inf's entry for the connector) is modelled as the registry key
--   HKLM\SOFTWARE[\WOW6432Node]\Microsoft\Windows Messaging Subsystem\Services\KOFF
-- (WOW6432Node for 32-bit Outlook on 64-bit Windows), value PR_SERVICE_DLL_NAME. It is
-- registered correctly when that value is a full path ending in kofmsp.dll: without "32",
-- which MAPI appends, and with the path, because Outlook 2013 and later no longer search
-- the PATH for providers (Microsoft, fact sheet 8). Whether the file is there is dll.exists.
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

local o, info = office(), host.system.info() or {}
if not o or not o.bitness then return nil end
local view = (o.bitness == "x86" and info.arch == "x64") and "HKLM\\SOFTWARE\\WOW6432Node\\" or "HKLM\\SOFTWARE\\"
local dll = host.registry.get(view .. SERVICE, "PR_SERVICE_DLL_NAME")
if type(dll) ~= "string" then return false end
return dll:find("^%a:\\") ~= nil and dll:lower():find("\\kofmsp%.dll$") ~= nil
