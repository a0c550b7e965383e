-- Tries: an error object that is a table whose __tostring loops forever (the
-- host describing the error would call it outside any limit).
-- Must: be a script error described by its type; __tostring is never called.
-- expect: ERROR error object is a table value
error(setmetatable({}, { __tostring = function() while true do end end }))
