"""The private scoring worker: checking, unpacking, running and storing packages."""
