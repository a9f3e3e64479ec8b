"""The mock score: run a submission's models offline against a mock benchmark."""
