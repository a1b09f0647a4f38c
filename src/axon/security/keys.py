"""API keys: creation, hashing, scope checks and verification.

A key reads `axon_<id>_<secret>`. The id finds the stored record; the record
holds only sha256(key), compared in constant time. The secret has 256 bits of
entropy, so a plain (unsalted) hash is enough: nothing to brute-force.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Iterable
from datetime import datetime

from axon.models import ApiKey, ApiScope, utcnow
from axon.ports import DocumentStore

_KEY_RE = re.compile(r"^axon_([0-9a-f]{16})_[A-Za-z0-9_-]{43}$")
# Each scope includes the ones below it.
_SCOPE_RANK = {ApiScope.READ: 0, ApiScope.WRITE: 1, ApiScope.ADMIN: 2}


def hash_key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_api_key(
    name: str,
    scopes: Iterable[ApiScope],
    expires_at: datetime | None = None,
    *,
    workspaces: Iterable[str] | None = None,
    tenant: str | None = None,
    budget_usd: float | None = None,
    rpm: int | None = None,
) -> tuple[ApiKey, str]:
    """A fresh key record and the secret token, which is shown once and never stored.
    `workspaces` None: every workspace (see axon.security.principal)."""
    key_id = secrets.token_hex(8)
    token = f"axon_{key_id}_{secrets.token_urlsafe(32)}"
    record = ApiKey(
        id=key_id,
        name=name,
        key_hash=hash_key(token),
        prefix=token[:13],
        scopes=sorted(set(scopes), key=_SCOPE_RANK.__getitem__),
        expires_at=expires_at,
        workspaces=sorted(set(workspaces)) if workspaces is not None else None,
        tenant=tenant,
        budget_usd=budget_usd,
        rpm=rpm,
    )
    return record, token


def key_id_of(token: str) -> str | None:
    match = _KEY_RE.match(token)
    return match.group(1) if match else None


def allows(key: ApiKey, needed: ApiScope) -> bool:
    return any(_SCOPE_RANK[s] >= _SCOPE_RANK[needed] for s in key.scopes)


def is_active(key: ApiKey, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return key.revoked_at is None and (key.expires_at is None or key.expires_at > now)


class KeyVerifier:
    """Checks presented tokens against the store, caching records for `ttl` seconds.

    The cache keeps the per-request cost to a hash and a dict lookup; a revoked
    key therefore stops working within `ttl` seconds on every replica.
    """

    def __init__(self, store: DocumentStore, ttl: float, max_entries: int = 10_000) -> None:
        self._store = store
        self._ttl = ttl
        self._max_entries = max_entries
        self._cache: dict[str, tuple[float, ApiKey | None]] = {}

    async def verify(self, token: str) -> ApiKey | None:
        key_id = key_id_of(token)
        if key_id is None:
            return None
        record = await self._record(key_id)
        if record is None or not hmac.compare_digest(record.key_hash, hash_key(token)):
            return None
        return record if is_active(record) else None

    async def active(self, key_id: str) -> ApiKey | None:
        """The record of an active key by id, for credentials derived from a key that was
        verified before (a dashboard session signs with the record's hash)."""
        record = await self._record(key_id)
        return record if record is not None and is_active(record) else None

    async def _record(self, key_id: str) -> ApiKey | None:
        now = time.monotonic()
        cached = self._cache.get(key_id)
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        record = await self._store.get_api_key(key_id)
        if len(self._cache) >= self._max_entries:
            self._cache.clear()
        self._cache[key_id] = (now, record)
        return record

    def forget(self, key_id: str) -> None:
        self._cache.pop(key_id, None)
