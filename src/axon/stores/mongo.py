"""Production DocumentStore on MongoDB, through pymongo's native async client.

Documents are the models' camelCase dumps with `_id` = our id and dates as
BSON dates, so the runbook's shell queries (`createdAt < new Date(...)`,
`usageCount < 5`, `timestamp < ...`) work on the stored data. Writes that
touch several documents run in a transaction, which MongoDB offers on replica
sets and sharded clusters (a single-node replica set is enough); `open` refuses
a standalone server rather than silently giving up atomicity.
"""

from __future__ import annotations

import functools
import inspect
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any, TypeVar

import pymongo
from pydantic import BaseModel
from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, ReplaceOne, UpdateMany, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.cursor import AsyncCursor
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import ConnectionFailure, DuplicateKeyError, PyMongoError

from axon.errors import Conflict, ServiceUnavailable
from axon.models import (
    ApiKey,
    Context,
    Feedback,
    Interaction,
    Job,
    JobState,
    LlmUsage,
    LlmUsageDay,
    Page,
    Tier,
    Workspace,
    utcnow,
)
from axon.ports import CodeSymbol, ContextFilter, FileState, first_symbols
from axon.stores.mongo_pool_events import MongoPoolMetrics
from axon.stores.pagination import decode_cursor, encode_cursor

M = TypeVar("M", bound=BaseModel)
USAGE_KEYS = ("workspace_id", "provider", "model", "api_key_id", "updated_at")
# LlmUsage counter attribute -> document field
USAGE_COUNTERS = {
    name: info.alias or name
    for name, info in LlmUsage.model_fields.items()
    if name not in USAGE_KEYS
}
T = TypeVar("T")
Doc = dict[str, Any]

# (collection, keys, options): created at open; create_index is a no-op when present.
INDEXES: list[tuple[str, list[tuple[str, int]], dict[str, Any]]] = [
    ("contexts", [("workspaceId", ASCENDING), ("tier", ASCENDING)], {}),
    ("contexts", [("createdAt", DESCENDING)], {}),
    ("contexts", [("workspaceId", ASCENDING), ("path", ASCENDING)], {}),
    ("contexts", [("usageCount", ASCENDING)], {}),
    # A conversation's stored turns, looked up on each of its prompts; sparse: only
    # conversation memory has the field.
    ("contexts", [("metadata.conversationId", ASCENDING)], {"sparse": True}),
    ("files", [("workspaceId", ASCENDING), ("path", ASCENDING)], {"unique": True}),
    ("symbols", [("workspaceId", ASCENDING), ("names", ASCENDING)], {}),
    ("interactions", [("workspaceId", ASCENDING), ("_id", ASCENDING)], {}),
    ("interactions", [("timestamp", ASCENDING)], {}),
    ("feedback", [("interactionId", ASCENDING)], {}),
    ("jobs", [("state", ASCENDING), ("_id", ASCENDING)], {}),
    ("llm_usage", [("apiKeyId", ASCENDING)], {}),
    ("llm_usage_days", [("day", ASCENDING)], {}),
]


async def _add_evidence(db: AsyncDatabase[Doc]) -> None:
    """Contexts stored before the confidence model get their source's prior centred on
    their confidence (the model derives it on reading; this writes it down, so the
    server-side evidence updates have fields to add to)."""
    contexts = db["contexts"]
    found = contexts.find({"evidence": {"$exists": False}}).batch_size(500)
    batch: list[UpdateOne] = []
    async for doc in found:
        context = from_doc(Context, doc)
        fields = {"evidence": context.evidence.dump(), "confidence": context.confidence}
        batch.append(
            UpdateOne({"_id": doc["_id"], "evidence": {"$exists": False}}, {"$set": fields})
        )
        if len(batch) == 500:
            await contexts.bulk_write(batch, ordered=False)
            batch = []
    if batch:
        await contexts.bulk_write(batch, ordered=False)


# Data migrations, run once each and in order at open (the version is kept in the
# `schema` collection). Each is idempotent: replicas starting together may both run one.
MIGRATIONS: list[Callable[[AsyncDatabase[Doc]], Awaitable[None]]] = [_add_evidence]


def to_doc(model: BaseModel) -> Doc:
    """camelCase document with `_id`; datetimes stay datetimes (BSON dates), enums plain."""
    doc = model.model_dump(mode="json", by_alias=True)
    for name, info in type(model).model_fields.items():
        value = getattr(model, name)
        if isinstance(value, datetime):
            doc[info.alias or name] = value
    doc["_id"] = doc.pop("id")
    return doc


def from_doc(model: type[M], doc: Doc) -> M:
    doc = dict(doc)
    doc["id"] = doc.pop("_id")
    return model.model_validate(doc)


def _file_key(workspace_id: str, path: str) -> str:
    # Workspace ids never contain ':' (models.ID_PATTERN), so the key is unambiguous.
    return f"{workspace_id}:{path}"


def _context_query(flt: ContextFilter) -> Doc:
    query: Doc = {}
    if flt.workspace_id is not None:
        query["workspaceId"] = flt.workspace_id
    if flt.tiers:
        query["tier"] = {"$in": [str(t) for t in flt.tiers]}
    if flt.types:
        query["type"] = {"$in": [str(t) for t in flt.types]}
    if flt.path is not None:
        query["path"] = flt.path
    if flt.conversation_id is not None:
        query["metadata.conversationId"] = flt.conversation_id
    return query


class MongoDocumentStore:
    def __init__(
        self,
        uri: str,
        *,
        max_pool_size: int = 50,
        min_pool_size: int = 0,
        server_selection_timeout: float = 5.0,
        workspace_cache_seconds: float = 2.0,
    ) -> None:
        self.uri = uri
        self._workspace_ttl = workspace_cache_seconds
        self._workspaces: dict[str, tuple[float, Workspace]] = {}
        options: dict[str, Any] = {}
        if "serverselectiontimeoutms" not in uri.lower():  # options in the URI win
            options["serverSelectionTimeoutMS"] = int(server_selection_timeout * 1000)
        self._client: AsyncMongoClient[Doc] = AsyncMongoClient(
            uri,
            tz_aware=True,
            tzinfo=UTC,
            retryWrites=True,
            maxPoolSize=max_pool_size,
            minPoolSize=min_pool_size,
            connect=False,
            event_listeners=[MongoPoolMetrics(max_pool_size)],
            **options,
        )
        self._db: AsyncDatabase[Doc] = self._client.get_default_database("axon")

    @property
    def database_name(self) -> str:
        return self._db.name

    def _col(self, name: str) -> AsyncCollection[Doc]:
        return self._db[name]

    # -- lifecycle -----------------------------------------------------------
    async def open(self) -> None:
        try:
            hello = await self._client.admin.command("hello")
        except PyMongoError as exc:
            await self._client.close()
            raise ServiceUnavailable(
                f"MongoDB at MONGODB_URI is unreachable: {brief_reason(exc)}"
            ) from None
        if "setName" not in hello and hello.get("msg") != "isdbgrid":
            await self._client.close()
            raise ServiceUnavailable(
                "MongoDB at MONGODB_URI is a standalone server, and Axon needs transactions: "
                "start mongod with --replSet rs0, run rs.initiate() once, and add "
                "replicaSet=rs0 to MONGODB_URI (a single-node replica set is enough; "
                "docker-compose.yml shows how)"
            )
        for collection, keys, options in INDEXES:
            await self._col(collection).create_index(keys, **options)
        await self._migrate()

    async def _migrate(self) -> None:
        schema = self._col("schema")
        found = await schema.find_one({"_id": "version"})
        current = int(found["version"]) if found else 0
        for version, migration in enumerate(MIGRATIONS, start=1):
            if version > current:
                await migration(self._db)
                await schema.update_one(
                    {"_id": "version"}, {"$max": {"version": version}}, upsert=True
                )

    async def close(self) -> None:
        await self._client.close()

    async def ping(self, within: float = 1.0) -> bool:
        try:
            # A bounded ping: readiness must answer quickly while the server is away.
            with pymongo.timeout(within):
                await self._client.admin.command("ping")
        except PyMongoError:
            return False
        return True

    async def _transaction(self, fn: Callable[[AsyncClientSession], Awaitable[T]]) -> T:
        """Run `fn` in one transaction, retried on transient errors by the driver."""
        async with self._client.start_session() as session:
            return await session.with_transaction(fn)

    # -- shared helpers -----------------------------------------------------------
    async def _page(
        self, collection: str, model: type[M], query: Doc, limit: int, cursor: str | None
    ) -> Page[M]:
        after = decode_cursor(cursor)
        if after is not None:
            query = {**query, "_id": {"$gt": after}}
        found = self._col(collection).find(query).sort("_id", ASCENDING).limit(limit + 1)
        docs = await found.to_list()
        items = [from_doc(model, d) for d in docs[:limit]]
        next_cursor = encode_cursor(str(docs[limit - 1]["_id"])) if len(docs) > limit else None
        return Page[M](items=items, next_cursor=next_cursor)

    async def _get(self, collection: str, model: type[M], record_id: str) -> M | None:
        doc = await self._col(collection).find_one({"_id": record_id})
        return from_doc(model, doc) if doc is not None else None

    async def _update(
        self, collection: str, model: type[M], record_id: str, changes: dict[str, Any]
    ) -> M | None:
        """Validate `changes` against the model, then `$set` only the changed fields."""
        current = await self._get(collection, model, record_id)
        if current is None:
            return None
        changes = dict(changes)
        if "updated_at" in model.model_fields and "updated_at" not in changes:
            changes["updated_at"] = utcnow()
        updated = model.model_validate(current.model_copy(update=changes).model_dump())
        doc = to_doc(updated)
        fields = {(model.model_fields[n].alias or n) for n in changes if n in model.model_fields}
        result = await self._col(collection).update_one(
            {"_id": record_id}, {"$set": {f: doc[f] for f in fields}}
        )
        return updated if result.matched_count else None

    async def _insert(self, collection: str, model: BaseModel, what: str) -> None:
        try:
            await self._col(collection).insert_one(to_doc(model))
        except DuplicateKeyError:
            record_id = getattr(model, "id", "?")
            raise Conflict(
                f"{what} '{record_id}' already exists",
                details=[{"field": "id", "message": "already exists"}],
            ) from None

    # -- workspaces -----------------------------------------------------------
    async def create_workspace(self, workspace: Workspace) -> Workspace:
        await self._insert("workspaces", workspace, "workspace")
        return workspace

    async def get_workspace(self, workspace_id: str) -> Workspace | None:
        # Every prompt reads its workspace: a short-lived copy spares MongoDB that read.
        # Changes through this store drop it at once; other replicas' within the TTL.
        cached = self._workspaces.get(workspace_id)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        workspace = await self._get("workspaces", Workspace, workspace_id)
        if workspace is not None and self._workspace_ttl > 0:
            self._workspaces[workspace_id] = (time.monotonic() + self._workspace_ttl, workspace)
        return workspace

    async def list_workspaces(self, limit: int, cursor: str | None = None) -> Page[Workspace]:
        return await self._page("workspaces", Workspace, {}, limit, cursor)

    async def update_workspace(
        self, workspace_id: str, changes: dict[str, Any]
    ) -> Workspace | None:
        self._workspaces.pop(workspace_id, None)
        return await self._update("workspaces", Workspace, workspace_id, changes)

    async def delete_workspace(self, workspace_id: str) -> bool:
        self._workspaces.pop(workspace_id, None)

        async def delete(session: AsyncClientSession) -> bool:
            await self._col("contexts").delete_many({"workspaceId": workspace_id}, session=session)
            await self._col("files").delete_many({"workspaceId": workspace_id}, session=session)
            await self._col("symbols").delete_many({"workspaceId": workspace_id}, session=session)
            result = await self._col("workspaces").delete_one(
                {"_id": workspace_id}, session=session
            )
            return result.deleted_count > 0

        return await self._transaction(delete)

    # -- contexts -----------------------------------------------------------
    async def _upsert_contexts(
        self, contexts: Sequence[Context], session: AsyncClientSession | None = None
    ) -> None:
        if contexts:
            await self._col("contexts").bulk_write(
                [ReplaceOne({"_id": c.id}, to_doc(c), upsert=True) for c in contexts],
                ordered=False,
                session=session,
            )

    async def put_contexts(self, contexts: Sequence[Context]) -> None:
        await self._upsert_contexts(contexts)

    async def get_context(self, context_id: str) -> Context | None:
        return await self._get("contexts", Context, context_id)

    async def get_contexts(self, context_ids: Sequence[str]) -> list[Context]:
        ids = list(dict.fromkeys(context_ids))
        if not ids:
            return []
        docs = await self._col("contexts").find({"_id": {"$in": ids}}).to_list()
        by_id = {d["_id"]: from_doc(Context, d) for d in docs}
        return [by_id[cid] for cid in ids if cid in by_id]

    async def list_contexts(
        self, flt: ContextFilter, limit: int, cursor: str | None = None
    ) -> Page[Context]:
        return await self._page("contexts", Context, _context_query(flt), limit, cursor)

    async def iter_contexts(
        self, flt: ContextFilter, batch_size: int = 1000
    ) -> AsyncIterator[Context]:
        found = self._col("contexts").find(_context_query(flt)).sort("_id", ASCENDING)
        async for doc in found.batch_size(batch_size):
            yield from_doc(Context, doc)

    async def count_contexts(self, flt: ContextFilter) -> int:
        return await self._col("contexts").count_documents(_context_query(flt))

    async def update_context(self, context_id: str, changes: dict[str, Any]) -> Context | None:
        return await self._update("contexts", Context, context_id, changes)

    async def delete_contexts(self, context_ids: Sequence[str]) -> int:
        ids = list(dict.fromkeys(context_ids))
        if not ids:
            return 0
        result = await self._col("contexts").delete_many({"_id": {"$in": ids}})
        return result.deleted_count

    async def record_usage(self, uses: Mapping[str, int]) -> None:
        by_count: dict[int, list[str]] = {}
        for cid, n in uses.items():
            if n > 0:
                by_count.setdefault(n, []).append(cid)
        if not by_count:
            return
        # Server-side increments, one update per distinct count, all in one round trip:
        # concurrent replicas never lose each other's counts.
        now = utcnow()
        await self._col("contexts").bulk_write(
            [
                UpdateMany(
                    {"_id": {"$in": ids}},
                    {"$inc": {"usageCount": n}, "$set": {"updatedAt": now}},
                )
                for n, ids in by_count.items()
            ],
            ordered=False,
        )

    async def add_evidence(
        self,
        context_ids: Sequence[str],
        helpful: float,
        unhelpful: float,
        confirmed_at: datetime | None = None,
    ) -> None:
        ids = list(dict.fromkeys(context_ids))
        if not ids:
            return
        # One pipeline update computes the new posterior on the server: replicas voting
        # at the same time never lose each other's evidence.
        alpha = {"$add": ["$evidence.alpha", helpful]}
        strength = {"$add": ["$evidence.alpha", "$evidence.beta", helpful, unhelpful]}
        changes: Doc = {
            "alpha": alpha,
            "beta": {"$add": ["$evidence.beta", unhelpful]},
            "helpful": {"$add": [{"$ifNull": ["$evidence.helpful", 0]}, helpful]},
            "unhelpful": {"$add": [{"$ifNull": ["$evidence.unhelpful", 0]}, unhelpful]},
            "votes": {"$add": [{"$ifNull": ["$evidence.votes", 0]}, 1]},
            "strength": strength,
        }
        fields: Doc = {
            "evidence": {"$mergeObjects": ["$evidence", changes]},
            "confidence": {
                "$cond": [{"$gt": [strength, 0]}, {"$divide": [alpha, strength]}, "$confidence"]
            },
            "updatedAt": utcnow(),
        }
        if confirmed_at is not None:
            changes["confirmedAt"] = confirmed_at
            fields["stale"] = None
        await self._col("contexts").update_many({"_id": {"$in": ids}}, [{"$set": fields}])

    async def find_expired_contexts(self, created_before: datetime, usage_below: int) -> list[str]:
        found = self._col("contexts").find(
            {"createdAt": {"$lt": created_before}, "usageCount": {"$lt": usage_below}},
            projection={"_id": 1},
        )
        return [d["_id"] async for d in found.sort("_id", ASCENDING)]

    # -- indexed files -----------------------------------------------------------
    async def get_file_states(self, workspace_id: str) -> dict[str, FileState]:
        docs = await self._col("files").find({"workspaceId": workspace_id}).to_list()
        return {
            d["path"]: FileState(
                d["path"],
                d["contentHash"],
                d["size"],
                d["mtimeNs"],
                d.get("contextCount", -1),
                d.get("rulesVersion", 0),  # absent: stored before versions were recorded
            )
            for d in docs
        }

    async def context_counts(self, workspace_id: str) -> dict[str, int]:
        match = {"workspaceId": workspace_id, "tier": str(Tier.WORKSPACE), "path": {"$ne": None}}
        cursor = await self._col("contexts").aggregate(
            [{"$match": match}, {"$group": {"_id": "$path", "n": {"$sum": 1}}}]
        )
        return {doc["_id"]: doc["n"] async for doc in cursor}

    async def _file_context_ids(
        self, workspace_id: str, path: str, session: AsyncClientSession
    ) -> list[str]:
        # The tier is checked here rather than in the query: the filter then matches the
        # {workspaceId, path} index exactly, which every planner (and the wire-protocol
        # test server, which otherwise scans the whole workspace) picks.
        found = self._col("contexts").find(
            {"workspaceId": workspace_id, "path": path},
            projection={"_id": 1, "tier": 1},
            session=session,
        )
        workspace_tier = str(Tier.WORKSPACE)
        ids = [d["_id"] async for d in found if d.get("tier") == workspace_tier]
        return sorted(ids)

    async def replace_file(
        self,
        workspace_id: str,
        state: FileState,
        contexts: Sequence[Context],
        symbols: Sequence[CodeSymbol] | None = None,
    ) -> list[str]:
        file_doc = {
            "_id": _file_key(workspace_id, state.path),
            "workspaceId": workspace_id,
            "path": state.path,
            "contentHash": state.content_hash,
            "size": state.size,
            "mtimeNs": state.mtime_ns,
            "contextCount": len(contexts),
            "rulesVersion": state.rules_version,
        }

        async def replace(session: AsyncClientSession) -> list[str]:
            old = await self._file_context_ids(workspace_id, state.path, session)
            new_ids = {c.id for c in contexts}
            stale = [cid for cid in old if cid not in new_ids]
            if stale:
                await self._col("contexts").delete_many({"_id": {"$in": stale}}, session=session)
            await self._upsert_contexts(contexts, session)
            await self._col("files").replace_one(
                {"_id": file_doc["_id"]}, file_doc, upsert=True, session=session
            )
            if symbols is not None:
                await self._replace_symbols(workspace_id, state.path, symbols, session)
            return old

        return await self._transaction(replace)

    async def remove_file(self, workspace_id: str, path: str) -> list[str]:
        async def remove(session: AsyncClientSession) -> list[str]:
            old = await self._file_context_ids(workspace_id, path, session)
            if old:
                await self._col("contexts").delete_many({"_id": {"$in": old}}, session=session)
            await self._col("files").delete_one(
                {"_id": _file_key(workspace_id, path)}, session=session
            )
            await self._replace_symbols(workspace_id, path, (), session)
            return old

        return await self._transaction(remove)

    async def _replace_symbols(
        self,
        workspace_id: str,
        path: str,
        symbols: Sequence[CodeSymbol],
        session: AsyncClientSession,
    ) -> None:
        """One document per file: its symbols (as the SQLite store's JSON rows) and the
        names they hold, which the look-up's multikey index covers."""
        key = {"_id": _file_key(workspace_id, path)}
        if not symbols:
            await self._col("symbols").delete_one(key, session=session)
            return
        doc = {
            "workspaceId": workspace_id,
            "path": path,
            "names": sorted({s.name for s in symbols}),
            "symbols": json.dumps([s[1:] for s in symbols], separators=(",", ":")),
        }
        await self._col("symbols").replace_one(key, doc, upsert=True, session=session)

    async def find_symbols(self, workspace_id: str, name: str, limit: int) -> list[CodeSymbol]:
        found = self._col("symbols").find(
            {"workspaceId": workspace_id, "names": name}, projection={"path": 1, "symbols": 1}
        )
        files = [(d["path"], d["symbols"]) async for d in found]
        return first_symbols(files, name, limit)

    async def workspace_symbols(self, workspace_id: str) -> list[tuple[str, str]]:
        found = self._col("symbols").find(
            {"workspaceId": workspace_id}, projection={"path": 1, "symbols": 1}, sort=[("path", 1)]
        )
        return [(d["path"], d["symbols"]) async for d in found]

    # -- interactions and feedback ---------------------------------------------
    async def add_interaction(self, interaction: Interaction) -> None:
        await self._col("interactions").replace_one(
            {"_id": interaction.id}, to_doc(interaction), upsert=True
        )

    async def get_interaction(self, interaction_id: str) -> Interaction | None:
        return await self._get("interactions", Interaction, interaction_id)

    async def list_interactions(
        self, workspace_id: str | None, limit: int, cursor: str | None = None
    ) -> Page[Interaction]:
        query: Doc = {"workspaceId": workspace_id} if workspace_id else {}
        return await self._page("interactions", Interaction, query, limit, cursor)

    async def delete_interactions_before(self, before: datetime) -> int:
        result = await self._col("interactions").delete_many({"timestamp": {"$lt": before}})
        return result.deleted_count

    async def count_interactions_before(self, before: datetime) -> int:
        return await self._col("interactions").count_documents({"timestamp": {"$lt": before}})

    async def add_feedback(self, feedback: Feedback) -> None:
        await self._insert("feedback", feedback, "feedback")

    # -- jobs -----------------------------------------------------------
    async def create_job(self, job: Job) -> None:
        await self._insert("jobs", job, "job")

    async def get_job(self, job_id: str) -> Job | None:
        return await self._get("jobs", Job, job_id)

    async def update_job(self, job_id: str, changes: dict[str, Any]) -> Job | None:
        return await self._update("jobs", Job, job_id, changes)

    async def list_jobs(
        self, state: JobState | None, limit: int, cursor: str | None = None
    ) -> Page[Job]:
        query: Doc = {"state": str(state)} if state else {}
        return await self._page("jobs", Job, query, limit, cursor)

    async def count_jobs(self) -> dict[JobState, int]:
        groups = await self._col("jobs").aggregate(
            [{"$group": {"_id": "$state", "n": {"$sum": 1}}}]
        )
        return {JobState(g["_id"]): int(g["n"]) async for g in groups}

    # -- API keys -----------------------------------------------------------
    async def create_api_key(self, key: ApiKey) -> None:
        await self._insert("api_keys", key, "API key")

    async def get_api_key(self, key_id: str) -> ApiKey | None:
        return await self._get("api_keys", ApiKey, key_id)

    async def list_api_keys(self, limit: int, cursor: str | None = None) -> Page[ApiKey]:
        return await self._page("api_keys", ApiKey, {}, limit, cursor)

    async def revoke_api_key(self, key_id: str, at: datetime) -> ApiKey | None:
        # Only the first revocation sets the time; later calls keep it.
        await self._col("api_keys").update_one(
            {"_id": key_id, "revokedAt": None}, {"$set": {"revokedAt": at}}
        )
        return await self.get_api_key(key_id)

    # -- LLM usage -----------------------------------------------------------
    async def add_llm_usage(self, usage: LlmUsage) -> None:
        key: list[str | None] = [usage.workspace_id, usage.provider, usage.model]
        if usage.api_key_id is not None:  # totals from before per-key usage keep their id
            key.append(usage.api_key_id)
        day = usage.updated_at.astimezone(UTC).date().isoformat()
        identity = {
            "workspaceId": usage.workspace_id,
            "apiKeyId": usage.api_key_id,
            "provider": usage.provider,
            "model": usage.model,
        }
        increments = {alias: getattr(usage, name) for name, alias in USAGE_COUNTERS.items()}

        # Upserts with $inc (replicas adding at the same time never lose counts), the
        # totals and the day's together.
        async def add(session: AsyncClientSession) -> None:
            for collection, doc_id, extra in (
                ("llm_usage", json.dumps(key), {}),
                ("llm_usage_days", json.dumps([day, *key]), {"day": day}),
            ):
                await self._col(collection).update_one(
                    {"_id": doc_id},
                    {
                        "$inc": increments,
                        "$set": {"updatedAt": usage.updated_at},
                        "$setOnInsert": {**extra, **identity},
                    },
                    upsert=True,
                    session=session,
                )

        await self._transaction(add)

    async def list_llm_usage(
        self, workspace_id: str | None = None, api_key_id: str | None = None
    ) -> list[LlmUsage]:
        found = self._usage_docs("llm_usage", {}, workspace_id, api_key_id)
        return [LlmUsage.model_validate(d) async for d in found]

    async def list_llm_usage_days(
        self, since: date, workspace_id: str | None = None, api_key_id: str | None = None
    ) -> list[LlmUsageDay]:
        query = {"day": {"$gte": since.isoformat()}}
        found = self._usage_docs("llm_usage_days", query, workspace_id, api_key_id)
        return [LlmUsageDay.model_validate(d) async for d in found]

    def _usage_docs(
        self, collection: str, query: Doc, workspace_id: str | None, api_key_id: str | None
    ) -> AsyncCursor[Doc]:
        """Usage documents in the ports' order (days first, when the documents have them)."""
        if workspace_id is not None:
            query["workspaceId"] = workspace_id
        if api_key_id is not None:
            query["apiKeyId"] = api_key_id
        order = [("workspaceId", 1), ("provider", 1), ("model", 1), ("apiKeyId", 1)]
        if "day" in query:
            order.insert(0, ("day", 1))
        return self._col(collection).find(query, projection={"_id": 0}).sort(order)


def brief_reason(exc: PyMongoError) -> str:
    """The driver's reason without the topology dump and timeouts a server-selection
    error appends (a start-up error stays one readable line)."""
    reason = str(exc).partition(", Timeout: ")[0]
    return reason.partition(" (configured timeouts: ")[0] or type(exc).__name__


def _unreachable_as_503(method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """A lost connection mid-request is a 503 the client may retry, not a 500."""

    @functools.wraps(method)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return await method(*args, **kwargs)
        except ConnectionFailure as exc:
            raise ServiceUnavailable(
                f"MongoDB is unreachable: {brief_reason(exc)}",
                code="MONGODB_UNAVAILABLE",
                headers={"Retry-After": "5"},
            ) from None

    return wrapper


for _name, _method in list(vars(MongoDocumentStore).items()):
    if not _name.startswith("_") and _name != "ping" and inspect.iscoroutinefunction(_method):
        setattr(MongoDocumentStore, _name, _unreachable_as_503(_method))
