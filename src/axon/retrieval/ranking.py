"""Scores: fusing lexical and dense relevance, entity boosts, and the final re-rank."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from axon.config import Settings
from axon.evolution import decay
from axon.kinds import Role, TaskType
from axon.models import Context, ContextType

# Entity boosts, in units of normalised relevance (the best candidate has relevance 1).
SYMBOL_BOOST = 0.5  # the context defines a symbol the query names
PATH_BOOST = 0.6  # the context's file is a path (or module) the query names
CONTAINS_BOOST = 0.15  # the context's text contains a named symbol or error
# The context holds an error message or quoted string of the query: as strong as the
# best word match (a literal message outweighs any statistics of its words).
EXACT_BOOST = 1.0
MAX_BOOST = 1.0
USAGE_SATURATION = 100  # usageCount at which the usage signal reaches 1
STALE_FACTOR = 0.5  # final score kept by a memory whose linked code changed


@dataclass(frozen=True, slots=True)
class RankingWeights:
    relevance: float = 0.6
    freshness: float = 0.2
    usage: float = 0.1
    confidence: float = 0.1
    half_life_days: float = 90.0
    lexical: float = 0.8  # share of lexical vs dense in relevance (dense gets the rest)
    mmr_lambda: float = 0.8  # 1 = pure relevance, lower = more diverse
    prose: float = 0.5  # relevance factor of documentation prose next to code
    graph: float = 0.0  # relevance added at the top of the code graph walk (graph.py); off
    change: float = 0.0  # relevance of the most often changed file (git history); off
    cochange: float = 0.0  # relevance of a file always changed with the best hits'; off
    # Half-lives (days) of knowledge that decays, per kind (axon.evolution.decay).
    decay_half_lives: dict[ContextType, float] = field(
        default_factory=lambda: dict(decay.DEFAULT_HALF_LIVES)
    )

    @classmethod
    def from_settings(cls, settings: Settings) -> RankingWeights:
        return cls(
            relevance=settings.rank_relevance_weight,
            freshness=settings.rank_freshness_weight,
            usage=settings.rank_usage_weight,
            confidence=settings.rank_confidence_weight,
            half_life_days=settings.freshness_half_life_days,
            lexical=settings.lexical_weight,
            mmr_lambda=settings.mmr_lambda,
            prose=settings.rank_prose_weight,
            graph=settings.rank_graph_weight,
            change=settings.rank_change_weight,
            cochange=settings.rank_cochange_weight,
            decay_half_lives={**decay.DEFAULT_HALF_LIVES, **settings.decay_half_life_days},
        )


def normalise(scores: dict[str, float]) -> dict[str, float]:
    """Scale to [0, 1] by the best score, so lexical and dense lists are comparable."""
    top = max(scores.values(), default=0.0)
    if top <= 0:
        return {key: 0.0 for key in scores}
    return {key: max(value, 0.0) / top for key, value in scores.items()}


def fuse(
    lexical: dict[str, float], dense: dict[str, float], lexical_weight: float
) -> dict[str, float]:
    """Relevance of every candidate of either list: the weighted sum of both normalised
    scores (Qdrant's hybrid search computes the same inside Qdrant)."""
    lex_n, dense_n = normalise(lexical), normalise(dense)
    return {
        cid: lexical_weight * lex_n.get(cid, 0.0) + (1 - lexical_weight) * dense_n.get(cid, 0.0)
        for cid in lexical.keys() | dense.keys()
    }


def freshness(context: Context, now: datetime, weights: RankingWeights) -> float:
    """How current a context is: decayed salience for knowledge that decays, else the
    age of its content (a source-backed context is as fresh as its file: in a git work
    tree its last commit, `metadata.changedAt`; elsewhere when indexing saw it change)."""
    if decay.decays(context):
        return decay.salience(context, now, weights.decay_half_lives)
    changed = context.metadata.get("changedAt")
    if isinstance(changed, int) and not isinstance(changed, bool):
        age_seconds = now.timestamp() - changed
    else:
        age_seconds = (now - context.updated_at).total_seconds()
    age_days = max(age_seconds, 0.0) / 86_400
    return math.exp(-math.log(2) * age_days / weights.half_life_days)


def change_count(context: Context) -> int:
    """How many of the commits read touched the context's file (`metadata.git`)."""
    git = context.metadata.get("git")
    count = git.get("commits") if isinstance(git, dict) else None
    return count if isinstance(count, int) and count > 0 else 0


def co_changes(context: Context) -> dict[str, float]:
    """Files changed with the context's file -> the share of its commits they were in."""
    git = context.metadata.get("git")
    commits = change_count(context)
    pairs = git.get("coChanged") if isinstance(git, dict) else None
    if not commits or not isinstance(pairs, list):
        return {}
    shares: dict[str, float] = {}
    for pair in pairs:
        if isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str):
            count = pair[1]
            if isinstance(count, int) and count > 0:
                shares[pair[0]] = min(count / commits, 1.0)
    return shares


def usage(context: Context) -> float:
    return min(math.log1p(max(context.usage_count, 0)) / math.log1p(USAGE_SATURATION), 1.0)


def final_score(
    weights: RankingWeights, relevance: float, fresh: float, used: float, confidence: float
) -> float:
    return (
        weights.relevance * relevance
        + weights.freshness * fresh
        + weights.usage * used
        + weights.confidence * confidence
    )


_PROSE_LANGUAGES = frozenset({None, "markdown", "restructuredtext", "text", "tex"})


def kind_prior(context: Context, weights: RankingWeights) -> float:
    """Documentation prose (guides, change logs) describes code in the same words a
    question uses, so it outscores the code itself on words alone; it is weighed down
    next to code. Hand-written contexts (decisions, conventions) are not prose here."""
    if context.type in (ContextType.DOCUMENTATION, ContextType.NOTE):
        return weights.prose
    if context.type is ContextType.FILE and context.language in _PROSE_LANGUAGES:
        return weights.prose
    return 1.0


class Intent(StrEnum):
    """What a search is for, which decides how much each role counts."""

    CODE = "code"  # a bug report, a feature, a question about behaviour
    HOWTO = "howto"  # "how do I ...": the docs and examples answer it
    OVERVIEW = "overview"  # "what is this project": the README, the project facts
    TESTS = "tests"  # writing or finding tests
    HISTORY = "history"  # "what changed", "who changed X": the commits answer it


R = Role
# Relative weights of each role's relevance per intent. Under CODE a test that shares
# the words comes after the implementation it exercises; docs keep the prose
# weight (`kind_prior`), which HOWTO and OVERVIEW lift back.
_CODE_MIX = {
    R.IMPLEMENTATION: 1.0,
    R.TEST: 0.55,
    R.DOCS: 1.0,
    R.EXAMPLE: 0.6,
    R.CONFIG: 0.9,
    R.GENERATED: 0.3,
}
ROLE_MIX: dict[Intent, dict[Role, float]] = {
    Intent.CODE: _CODE_MIX,
    Intent.HOWTO: {
        R.IMPLEMENTATION: 0.6,
        R.TEST: 0.4,
        R.DOCS: 2.0,
        R.EXAMPLE: 1.2,
        R.CONFIG: 0.9,
        R.GENERATED: 0.3,
    },
    Intent.OVERVIEW: {
        R.IMPLEMENTATION: 0.5,
        R.TEST: 0.3,
        R.DOCS: 2.0,
        R.EXAMPLE: 0.6,
        R.CONFIG: 1.2,
        R.GENERATED: 0.3,
    },
    Intent.TESTS: {
        R.IMPLEMENTATION: 1.0,
        R.TEST: 1.0,
        R.DOCS: 1.0,
        R.EXAMPLE: 0.8,
        R.CONFIG: 0.9,
        R.GENERATED: 0.3,
    },
    # The code a commit touched ranks as for a question about code (COMMIT_FACTOR
    # puts the commits themselves first).
    Intent.HISTORY: _CODE_MIX,
}
# Under HISTORY a commit's relevance counts this much more than a chunk of code: the
# question is about the changes, and the code they touched comes after them.
COMMIT_FACTOR = 2.0
ROOT_DOC_FACTOR = 1.5  # a README at the top of the project, under OVERVIEW

# Only a question is read for its shape, and only its opening: an issue report that
# asks "how to concatenate ..." in its second sentence is still a report about code.
# Word-bounded alternatives, no nested repetition.
SHORT_QUERY = 400
_OPENING = 240
_HOWTO = re.compile(
    r"\bhow (?:do|can|should|would|could) (?:i|we|you|one)\b|\bhow to\b"
    r"|\bis there a way to\b|\bexample (?:of|for)\b",
    re.IGNORECASE,
)
_OVERVIEW = re.compile(
    r"\bwhat (?:is|does) (?:this|the) (?:project|repo|repository|library|package|codebase)\b"
    r"|\b(?:project|repository|codebase) (?:overview|summary)\b|\boverview of (?:this|the)\b",
    re.IGNORECASE,
)
_TESTS = re.compile(
    r"\b(?:write|add|where are|which|missing) (?:a |an |the |unit |more )?tests?\b",
    re.IGNORECASE,
)
_HISTORY = re.compile(
    r"\bwhat(?:'s| has| have)? changed\b|\bwhat (?:was|were) (?:changed|modified|committed)\b"
    r"|\b(?:recent|latest|last|newest) (?:changes?|commits?|edits?)\b"
    r"|\bwho (?:last )?(?:changed|modified|wrote|touched|committed|removed)\b"
    r"|\b(?:commit|change|git) (?:history|log)\b|\bchangelog\b|\bchanged (?:recently|lately)\b",
    re.IGNORECASE,
)
_TASK_INTENTS = {
    TaskType.TEST: Intent.TESTS,
    TaskType.DOCUMENTATION: Intent.HOWTO,
    TaskType.DEPLOYMENT: Intent.HOWTO,
}


def intent_of(query: str, task_type: TaskType | None = None) -> Intent:
    """For a short query (a question, an instruction): its own shape first ("how do
    I", "what is this project"), then the task the prompt analyzer found; else CODE."""
    if len(query) > SHORT_QUERY:
        # An issue report: whatever task the analyzer guessed from its words (a report
        # about a docs tool reads as "documentation", one quoting pytest as "test"),
        # the implementation comes first.
        return Intent.CODE
    opening = query[:_OPENING]
    if _HISTORY.search(opening):
        return Intent.HISTORY
    if _OVERVIEW.search(opening):
        return Intent.OVERVIEW
    if _HOWTO.search(opening):
        return Intent.HOWTO
    if _TESTS.search(opening):
        return Intent.TESTS
    return _TASK_INTENTS.get(task_type, Intent.CODE) if task_type else Intent.CODE


def role_factor(context: Context, role: Role, intent: Intent) -> float:
    if context.type is ContextType.COMMIT:
        return COMMIT_FACTOR if intent is Intent.HISTORY else 1.0
    factor = ROLE_MIX[intent][role]
    path = context.path
    if intent is Intent.OVERVIEW and role is Role.DOCS and path and "/" not in path:
        factor *= ROOT_DOC_FACTOR
    return factor
