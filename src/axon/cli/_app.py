"""The root Typer app and helpers every command module shares."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import NoReturn, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape

from axon import __version__
from axon.config import SettingsError, load_settings
from axon.errors import AxonError
from axon.services import Services, build_services

T = TypeVar("T")
_stderr = Console(stderr=True)

app = typer.Typer(
    name="axon",
    help="Axon: a context engine for AI copilots.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def fail(message: str, code: int = 1) -> NoReturn:
    """Print one clear line on stderr and exit non-zero."""
    _stderr.print(f"[red]error:[/red] {escape(message)}", highlight=False)
    raise typer.Exit(code)


@contextmanager
def cli_errors() -> Iterator[None]:
    """Turn configuration and domain errors into one line and an exit code."""
    try:
        yield
    except SettingsError as exc:
        fail(str(exc), 2)
    except AxonError as exc:
        fields = ", ".join(str(d["field"]) for d in exc.details if d.get("field"))
        fail(exc.message + (f" ({fields})" if fields else ""))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        fail(f"invalid input: {problems}")


def run_with_services(fn: Callable[[Services], Awaitable[T]]) -> T:
    """Open the configured adapters, run `fn`, and close them again."""

    async def runner() -> T:
        services = await build_services(load_settings())
        try:
            return await fn(services)
        finally:
            await services.close()

    with cli_errors():
        return asyncio.run(runner())
    raise AssertionError("unreachable")


@app.command()
def version() -> None:
    """Print Axon's version."""
    typer.echo(__version__)
