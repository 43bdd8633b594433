"""Users, as the identity provider (Clerk) knows them: synced by its webhook."""
