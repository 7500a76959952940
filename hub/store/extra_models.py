"""Model modules that areas other than the core hub add; importing this registers their tables on Base.metadata."""
