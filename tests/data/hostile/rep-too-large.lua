-- Tries: a string.rep whose size overflows.
-- Must: be a script error, not a crash.
-- expect: ERROR resulting string too large
return ("x"):rep(2^62, "yy")
