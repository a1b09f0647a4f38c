"""`axon mcp`: Axon's MCP server on stdio, for editors that spawn a process."""

from __future__ import annotations

from axon.cli._app import app, cli_errors


@app.command()
def mcp() -> None:
    """Serve the MCP tools (search, build context, read source, remember, ...) on stdio."""
    import sys

    import anyio

    from axon.config import load_settings
    from axon.logs import configure_logging
    from axon.mcp.server import build_mcp_server
    from axon.services import build_services

    with cli_errors():
        settings = load_settings()
    configure_logging(settings.log_level, settings.log_format, sys.stderr)  # stdout: protocol
    settings.data_dir.mkdir(parents=True, exist_ok=True)

    async def serve() -> None:
        services = await build_services(settings)
        try:
            await build_mcp_server(lambda: services).run_stdio_async()
        finally:
            await services.close()

    with cli_errors():
        anyio.run(serve)
