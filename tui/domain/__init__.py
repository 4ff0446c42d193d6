"""The domain layer: catalogs, payload adapters, the event model and aggregation. Never imports textual."""
