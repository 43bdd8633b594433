"""Practice questions per job info (the original app's questions feature)."""
