"""The `orderq` command line: a thin front end over db.service."""
