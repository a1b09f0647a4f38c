"""`axon serve`: the API server."""

from __future__ import annotations

import logging
import signal
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any

import typer

from axon.cli._app import app, cli_errors

if TYPE_CHECKING:
    from axon.config import Settings

APP_FACTORY = "axon.api.app:app_from_env"


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="bind address (default HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="port (default PORT, 3000)")] = None,
    workers: Annotated[int, typer.Option(min=1, max=64, help="worker processes")] = 1,
) -> None:
    """Run the HTTP API server."""
    from axon.config import load_settings
    from axon.embeddings import build_embedder
    from axon.local_server import announce, withdraw
    from axon.logs import configure_logging
    from axon.services import require_drivers

    overrides: dict[str, object] = {}
    if host is not None:
        overrides["host"] = host
    if port is not None:
        overrides["port"] = port
    with cli_errors():
        settings = load_settings(**overrides)
    configure_logging(settings.log_level, settings.log_format)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with cli_errors():
        # A misconfigured embedder or a backend without its driver fails here, in one line.
        require_drivers(settings)
        build_embedder(settings)
    logging.getLogger("axon.serve").info("%s", settings.store_location)
    # CLI commands of the same data folder find this server by the file and ask it.
    announce(settings.data_dir, settings.host, settings.port, settings.auth_enabled)
    previous = signal.getsignal(signal.SIGTERM)

    def withdraw_then_stop(signum: int, frame: FrameType | None) -> None:
        # Uvicorn stops on SIGTERM, then raises it again so the exit status says so;
        # that default action would end the process before `finally` could run.
        withdraw(settings.data_dir)
        signal.signal(signum, previous)
        signal.raise_signal(signum)

    signal.signal(signal.SIGTERM, withdraw_then_stop)
    try:
        _serve(settings, workers)
    finally:
        withdraw(settings.data_dir)
        signal.signal(signal.SIGTERM, previous)


def _serve(settings: Settings, workers: int) -> None:
    import uvicorn

    from axon.api.app import create_app
    from axon.cli._workers import balances_connections, run_workers

    if workers > 1:
        # Worker processes re-read the environment, so pass overrides through it.
        import os

        os.environ["PORT"] = str(settings.port)
        os.environ["HOST"] = settings.host
        # Workers share metrics through files; stale files from a previous run would
        # inflate counters, so the directory starts empty.
        metrics_dir = Path(
            os.environ.setdefault(
                "PROMETHEUS_MULTIPROC_DIR", str(settings.data_dir / "prometheus-multiproc")
            )
        )
        metrics_dir.mkdir(parents=True, exist_ok=True)
        for stale in metrics_dir.glob("*.db"):
            stale.unlink()
        options: dict[str, Any] = {
            "factory": True,
            "host": settings.host,
            "port": settings.port,
            "workers": workers,
            "log_config": None,
            "access_log": False,
            "timeout_graceful_shutdown": 10,
        }
        if balances_connections():
            run_workers(uvicorn.Config(APP_FACTORY, **options))
        else:
            uvicorn.run(APP_FACTORY, **options)
        return
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
    )
