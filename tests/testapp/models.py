"""Models the tests use (the field tests add theirs here)."""
