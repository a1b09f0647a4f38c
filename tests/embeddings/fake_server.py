"""A local HTTP server speaking the OpenAI embeddings and Ollama /api/embed protocols.

Vectors are deterministic per text (seeded by its sha256) and deliberately
not unit length, so the tests see our normalisation. `fail_with` makes the
next replies an error, `wrong_dimension` a malformed reply.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np


def fake_vector(text: str, dimension: int) -> list[float]:
    seed = int(hashlib.sha256(text.encode()).hexdigest()[:16], 16)
    return [float(x) for x in np.random.default_rng(seed).standard_normal(dimension) * 3.0]


@dataclass
class FakeEmbeddingServer:
    url: str = ""
    openai_dimension: int = 1536
    ollama_dimension: int = 384
    fail_with: tuple[int, dict[str, Any]] | None = None
    wrong_dimension: bool = False
    requests: list[dict[str, Any]] = field(default_factory=list)

    def reply(self, path: str, headers: dict[str, str], body: dict[str, Any]) -> tuple[int, Any]:
        self.requests.append({"path": path, "headers": headers, "body": body})
        if self.fail_with is not None:
            return self.fail_with
        if path == "/v1/embeddings":
            return 200, self._openai(body)
        if path == "/api/embed":
            return 200, self._ollama(body)
        return 404, {"error": f"no route {path}"}

    def _openai(self, body: dict[str, Any]) -> dict[str, Any]:
        dimension = int(body.get("dimensions") or self.openai_dimension)
        dimension += 1 if self.wrong_dimension else 0
        items = [
            {"object": "embedding", "index": i, "embedding": fake_vector(text, dimension)}
            for i, text in enumerate(body["input"])
        ]
        items.reverse()  # the API does not promise order; clients sort by index
        return {
            "object": "list",
            "data": items,
            "model": body["model"],
            "usage": {"prompt_tokens": 1, "total_tokens": 1},
        }

    def _ollama(self, body: dict[str, Any]) -> dict[str, Any]:
        dimension = self.ollama_dimension + (1 if self.wrong_dimension else 0)
        return {
            "model": body["model"],
            "embeddings": [fake_vector(text, dimension) for text in body["input"]],
        }


@contextmanager
def running_fake() -> Iterator[FakeEmbeddingServer]:
    fake = FakeEmbeddingServer()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length) or b"{}")
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, payload = fake.reply(self.path, headers, body)
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
