"""A partition's base posting arrays on disk.

Building them means parsing every row's term counts from SQLite (seconds at 100k
chunks); a process that finds a snapshot loads the arrays as they are and applies
only the changes logged since (`lex_log`). Files are named by partition, database
instance and log position, written to a temporary name and renamed into place, so a
reader never sees a partial file and a recreated database never matches an old one.
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from axon.stores.embedded_search.masks import RowCodes
from axon.stores.embedded_search.postings import Postings

_SEP = "\0"  # cannot occur in ids, paths, symbols or terms


def _prefix(directory: Path, partition: str, instance: str) -> Path:
    digest = hashlib.sha256(partition.encode()).hexdigest()[:24]
    return directory / f"{digest}.{instance}"


def _pack(values: list[str | None]) -> NDArray[np.uint8]:
    return np.frombuffer(_SEP.join(v or "" for v in values).encode(), dtype=np.uint8)


def _unpack(data: NDArray[np.uint8], n: int) -> list[str]:
    return data.tobytes().decode().split(_SEP) if n else []


def save(directory: Path, partition: str, instance: str, seq: int, base: Postings) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    prefix = _prefix(directory, partition, instance)
    path = prefix.with_name(f"{prefix.name}.{seq}.npz")
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    terms = sorted(base.vocab, key=base.vocab.__getitem__)
    with tmp.open("wb") as fh:
        np.savez(
            fh,
            n=np.asarray([len(base.ids), len(terms)], dtype=np.int64),
            avgdl=np.asarray([base.avgdl], dtype=np.float64),
            ids=_pack(list(base.ids)),
            paths=_pack(base.row_paths),
            symbols=_pack(base.row_symbols),
            terms=_pack(list(terms)),
            tiers=base.codes.tiers,
            types=base.codes.types,
            df=base.df,
            ptr=base.ptr,
            docs=base.docs,
            weights=base.weights,
        )
    os.replace(tmp, path)
    discard(directory, partition, instance, keep=path)


def discard(directory: Path, partition: str, instance: str, keep: Path | None = None) -> None:
    prefix = _prefix(directory, partition, instance)
    for stale in directory.glob(f"{prefix.name}.*.npz"):
        if stale != keep:
            stale.unlink(missing_ok=True)


def load(
    directory: Path, partition: str, instance: str, newest: int
) -> tuple[int, Postings] | None:
    """The latest snapshot of `partition` no newer than log position `newest`, if any."""
    prefix = _prefix(directory, partition, instance)
    found: list[tuple[int, Path]] = []
    for path in directory.glob(f"{prefix.name}.*.npz"):
        position = path.name.removeprefix(f"{prefix.name}.").removesuffix(".npz")
        if position.isdigit() and int(position) <= newest:
            found.append((int(position), path))
    if not found:
        return None
    seq, path = max(found)
    try:
        with np.load(path) as data:
            n, n_terms = (int(v) for v in data["n"])
            ids = _unpack(data["ids"], n)
            terms = _unpack(data["terms"], n_terms)
            if len(ids) != n or len(terms) != n_terms:
                raise ValueError(f"{path} does not hold what it says")
            base = Postings(
                ids=ids,
                codes=RowCodes(data["tiers"], data["types"]),
                avgdl=float(data["avgdl"][0]),
                vocab={term: i for i, term in enumerate(terms)},
                df=data["df"],
                ptr=data["ptr"],
                docs=data["docs"],
                weights=data["weights"],
                row_paths=[p or None for p in _unpack(data["paths"], n)],
                row_symbols=[s or None for s in _unpack(data["symbols"], n)],
            )
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        path.unlink(missing_ok=True)  # damaged (e.g. a full disk): rebuild from SQLite
        return None
    return seq, base
