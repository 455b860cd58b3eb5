"""`interlock witness serve`: a C2SP tlog-witness that cosigns checkpoints it found consistent."""
