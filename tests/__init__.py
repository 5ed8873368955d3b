"""rolebot tests."""
