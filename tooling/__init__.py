"""Tooling for submitting models to Brain-Score by pull request."""

__version__ = "0.1.0"
