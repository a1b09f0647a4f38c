"""Adapters for the ports in `axon.ports`. Database drivers are imported only here."""
