"""Deletes that cascade across features (a job info takes its interviews and questions with it),
so they must gather the cache tags of everything they remove. Depends on the features; no
feature depends on it."""
