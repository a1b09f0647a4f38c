"""Axon: a context engine for AI copilots."""

__version__ = "0.1.0"
