"""One line instead of a traceback when the server cannot start for a reason we name.

uvicorn logs the whole traceback of a failed start-up. When start-up fails with one
of our own errors (a standalone MongoDB, an unreachable backend, a missing driver)
its message already says what to fix, so that message is what gets logged.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from axon.errors import AxonError


class StartupErrorLine:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        failed: Message | None = None

        async def hold_failure(message: Message) -> None:
            # Starlette reports the failure, then re-raises: hold it until the error is known.
            nonlocal failed
            if message["type"] == "lifespan.startup.failed":
                failed = message
                return
            await send(message)

        try:
            await self.app(scope, receive, hold_failure)
        except AxonError as exc:
            if failed is not None:
                await send({**failed, "message": f"cannot start: {exc.message}"})
            raise
        except BaseException:
            if failed is not None:
                await send(failed)
            raise
