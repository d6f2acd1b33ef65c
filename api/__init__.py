"""The HTTP API (`orderq api`): a face over db/service like the TUI and the CLI, for web shops,
marketplaces and partners' systems. No SQL and no sqlite3 here (an import-linter contract): every
check, permission and write is the service layer's (db/service/partner_api.py, db/service/shopify.py).
"""
