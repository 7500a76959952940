"""dvc-hub's core: settings, topology, store, the message pipeline and its operations."""
