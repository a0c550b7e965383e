-- Tries: to flood the notes (print goes to notes, never to stdout).
-- Must: keep at most 100 notes; the run ends normally.
-- notes: 100
-- expect: OK printed
for i = 1, 150 do print("line", i, nil, true) end
print(("x"):rep(10000))
return "printed"
