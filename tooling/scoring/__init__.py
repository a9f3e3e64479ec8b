"""The private scoring worker: checking, unpacking, running and storing packages."""

# The wall-clock limit in seconds for one model on one benchmark. It is here rather than in
# worker.py so that `score --help` can show it without importing the database layer.
DEFAULT_TIMEOUT = 3600.0
