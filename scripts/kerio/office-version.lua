-- Probe for question office.version: which Outlook is installed, read from the registry
-- (never from an installed-programs list).
-- Click-to-Run: HKLM\SOFTWARE\Microsoft\Office\ClickToRun\Configuration, VersionToReport
-- ("16.0.x" for 2016 and every later release) and ProductReleaseIds, whose product names
-- tell 365 from 2019/2021/2024 (O365ProPlusRetail, ProPlus2019Retail, ProPlus2021Volume...).
-- ASSUMPTION: that name mapping comes from admin scripts, not from Microsoft documentation.
-- Windows Installer: HKLM\SOFTWARE[\WOW6432Node]\Microsoft\Office\<NN>.0\Outlook
-- (14.0 = 2010, 15.0 = 2013, 16.0 = 2016; 12.0 and older = 2007 or older).

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
if not o or not o.major then return nil end
if o.c2r then
  local products = o.products:lower()
  if products:find("o365", 1, true) then return "365" end
  for _, year in ipairs{"2024", "2021", "2019"} do
    if products:find(year, 1, true) then return year end
  end
  if products == "" then return nil end            -- 16.0 alone cannot tell 2016 from 365
  if o.major == 16 then return "2016" end          -- retail 2016 (ProPlusRetail, HomeBusinessRetail...)
  if o.major == 15 then return "2013" end
  return nil
end
if o.major >= 17 then return nil end
local names = { [16] = "2016", [15] = "2013", [14] = "2010" }
return names[o.major] or "2007-or-older"
