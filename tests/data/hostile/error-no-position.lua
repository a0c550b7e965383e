-- Tries: an error raised without a position (level 0).
-- Must: be a script error that still names the script and line.
-- expect: ERROR boom
error("boom", 0)
