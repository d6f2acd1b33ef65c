"""The bodies of SQLite's migrations, grouped by the era that added them. Which migrations there are,
and in what order they run, is db.migrations' list (databases in the field record them by name).

- first_schema: m001, the whole schema every feature started from (and the queue orders its indexes use)
- desk_growth: m200-m600, the desk's later needs (KPI indexes, the history flag, partial shipments,
  the audit log's hash chain, customer addresses and the order header)
- partner_channels: m700-m900, the electronic channels (the delivery outbox, partners, the HTTP API's
  idempotency keys, webhooks, EDI partner profiles)
- event_log: m910 on, the event log's b-trees reshaped for the claim's write lock
"""
