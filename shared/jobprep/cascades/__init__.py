"""Deletes that cascade across features (a job info takes its interviews with it), so they
must gather the cache tags of everything they remove. Depends on both features; neither
feature depends on it."""
