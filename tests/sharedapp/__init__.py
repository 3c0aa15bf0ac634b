"""A test-only feature module: one shared record type read through every path a module offers."""
