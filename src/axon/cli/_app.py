"""The root Typer app and helpers every command module shares.

Command modules import only typer and `axon.kinds` at the top, and each command
imports what it runs inside its own body: `axon --help`, or a search a running
server answers, must not pay for pydantic, numpy or the server stack.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, NoReturn, TypeVar

import typer

from axon import __version__

if TYPE_CHECKING:
    from axon.services import Services

T = TypeVar("T")

app = typer.Typer(
    name="axon",
    help="Axon: a context engine for AI copilots.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain help and usage errors: Rich's help renderer costs more to import than the
    # rest of a command's start-up (see bench/cli.py).
    rich_markup_mode=None,
)


def fail(message: str, code: int = 1) -> NoReturn:
    """Print one clear line on stderr and exit non-zero."""
    from rich.console import Console
    from rich.markup import escape

    # soft_wrap: one line however long (rich would wrap at the terminal width, 80 in logs).
    Console(stderr=True).print(
        f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True
    )
    raise typer.Exit(code)


def _explain(exc: Exception) -> tuple[str, int] | None:
    """The one-line message and exit code for a configuration or domain error."""
    # Imported here: these modules are loaded already whenever they raised.
    from pydantic import ValidationError

    from axon.config import SettingsError, load_settings
    from axon.errors import AxonError, NotFound

    if isinstance(exc, SettingsError):
        return str(exc), 2
    if isinstance(exc, AxonError):
        fields = ", ".join(str(d["field"]) for d in exc.details if d.get("field"))
        where = ""
        if isinstance(exc, NotFound):  # the usual cause: another data folder (AXON_DATA_DIR)
            where = f" [{load_settings().store_location}]"
        return exc.message + (f" ({fields})" if fields else "") + where, 1
    if isinstance(exc, ValidationError):
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        return f"invalid input: {problems}", 1
    return None


@contextmanager
def cli_errors() -> Iterator[None]:
    """Turn configuration and domain errors into one line and an exit code."""
    try:
        yield
    except (typer.Exit, typer.Abort):
        raise
    except Exception as exc:
        explained = _explain(exc)
        if explained is None:
            raise
        fail(*explained)


def run_with_services(fn: Callable[[Services], Awaitable[T]]) -> T:
    """Open the configured adapters, run `fn`, and close them again."""
    import asyncio

    from axon.config import load_settings
    from axon.services import build_services

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
