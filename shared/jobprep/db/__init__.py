"""The database layer: the container's engine (engine.py), how it gets credentials
(credentials.py) and the MetaData every table registers on (metadata.py)."""
