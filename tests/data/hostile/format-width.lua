-- Tries: huge widths and precisions in string.format.
-- Must: be refused by Lua's own format checks (at most 2 digits each; a
-- longer spec is "invalid format").
-- expect: ERROR invalid format (too long)
for _, fmt in ipairs({ "%99999999d", "%.99999999f", "%0999999999999s", "%-100s", "%100d" }) do
  local ok, err = pcall(string.format, fmt, 1)
  assert(not ok and err:find("invalid conversion"), fmt)
end
assert(#string.format("%99d", 1) == 99)
return string.format("%" .. ("9"):rep(1000) .. "d", 1)
