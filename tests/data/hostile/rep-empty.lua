-- Tries: string.rep of an empty string 2^53 times (Lua 5.4.4's own rep loops n
-- times copying nothing: it never returns).
-- Must: return "" at once.
-- expect: OK fast
assert(("").rep("", 2^53) == "")
assert(string.rep("", 1e15, "") == "")
assert(("x"):rep(0) == "" and ("x"):rep(-5) == "")
assert(("ab"):rep(3, ",") == "ab,ab,ab")
assert(("ab"):rep(1, ",") == "ab")
assert((""):rep(3, ",") == ",,")
return "fast"
