"""The only place with SQL: schema, connections, the store, claims, the event log and the change feed."""
