"""The HTTP API."""

from axon.api.app import create_app

__all__ = ["create_app"]
