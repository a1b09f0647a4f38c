"""Axon as an MCP server: `axon mcp` on stdio and `/mcp` (streamable HTTP) on the API."""
