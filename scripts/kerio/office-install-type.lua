-- Probe for question office.install-type: Click-to-Run or Windows Installer (MSI).
-- Click-to-Run Office has HKLM\SOFTWARE\Microsoft\Office\ClickToRun\Configuration with
-- VersionToReport (Office 2013 Click-to-Run: under Office\15.0\ClickToRun); an MSI Office
-- has HKLM\SOFTWARE[\WOW6432Node]\Microsoft\Office\<NN>.0\Outlook (Bitness since 2010).

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

local o = office()
if not o then return nil end
return o.c2r and "c2r" or "msi"
