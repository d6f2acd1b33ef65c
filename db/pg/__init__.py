"""The PostgreSQL backend: everything that differs from SQLite, in one package.

- connection.py: the connection adapter (sqlite3's API over psycopg 3), transactions, errors
- sql.py: placeholder translation, once per SQL string
- schema.py, baseline.py: migrations per driver under SQLite's migration names
- dialect.py: the SQL fragments that are not portable (the claim's lock, the event head, JSON)
- store.py: opening a database by URL (init, refusals), `check`'s integrity step
"""
