"""The file-level summary context every code file gets."""

from __future__ import annotations

from dataclasses import dataclass, field

from axon.indexing.chunks import Chunk
from axon.models import ContextType

_MAX_LISTED = 60


@dataclass(slots=True)
class FileSummary:
    """Path, module doc, imports and top-level names, as one small context."""

    path: str
    language: str
    line_count: int
    doc: str | None = None
    package: str | None = None
    imports: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)

    def chunk(self) -> Chunk:
        parts = [f"File {self.path} ({self.language}, {self.line_count} lines)"]
        if self.package:
            parts.append(f"Package: {self.package}")
        if self.doc:
            parts.append(self.doc[:1500].strip())
        if self.imports:
            shown = self.imports[:_MAX_LISTED]
            more = len(self.imports) - len(shown)
            parts.append(
                "Imports:\n" + "\n".join(shown) + (f"\n... {more} more" if more > 0 else "")
            )
        if self.names:
            shown = self.names[:_MAX_LISTED]
            more = len(self.names) - len(shown)
            parts.append("Defines: " + ", ".join(shown) + (f", ... {more} more" if more else ""))
        return Chunk(
            ContextType.FILE,
            "\n\n".join(parts) + "\n",
            1,
            max(self.line_count, 1),
            symbol=None,
            symbol_kind="module",
            title=self.path,
            metadata={
                "imports": self.imports[:200],
                "topLevel": self.names[:200],
                "lineCount": self.line_count,
            },
        )
