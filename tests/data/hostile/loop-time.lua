-- Tries: an endless loop under an instruction budget too large to matter.
-- Must: end with the time limit (200 ms), well under 3 s.
-- limits: instructions=1000000000000000 time=200
-- expect: ELIMIT time
while true do end
