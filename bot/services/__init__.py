"""Services: gather from the store, decide with models/, apply, queue outgoing messages."""
