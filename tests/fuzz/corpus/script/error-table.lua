-- Tries: an error object that is a plain table.
-- Must: be a script error described by its type, with the script's name.
-- expect: ERROR error object is a table value
error({ code = 42 })
