-- A fix script of the dialogue fixture: compiled, never run by the tests.
return true
