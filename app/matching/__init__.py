"""Pure, I/O-free person matching: names, normalization, features, blocking keys, scoring.

Nothing here imports the services, repositories, schemas, API or database: every layer above
may use it, so the import graph keeps pointing down (DESIGN §2).
"""
