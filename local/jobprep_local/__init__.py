"""Local runtime for the SAM template: load functions as Lambda would, build their events."""
