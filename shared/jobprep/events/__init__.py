"""Cache-invalidation events: the domain type (model), the outbox they are stored in, how they
are published (publisher), marked sent (receipts) and how a relay run is requested (wakeup).
The relay itself (jobprep.relay) sits above, beside the other scheduled work."""
