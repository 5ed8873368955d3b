"""Store: the SQLite database, its migrations and everything kept in it."""
