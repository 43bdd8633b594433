"""Cache-invalidation events: the domain type (model), the outbox they are stored in, how
they are published (publisher), marked sent (receipts) and relayed when publishing failed."""
