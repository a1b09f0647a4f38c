"""Analyzer: intent, task type, entities and ambiguity of a prompt, by rules.

Deterministic and fast (precompiled, word-bounded regular expressions; no
model). Confidences come from the margin between the best and the runner-up
score, so a prompt with one clear cue scores higher than one where two tasks
compete; tests/pipeline/test_analyzer.py measures accuracy on a labelled table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from axon.models import WorkspaceType
from axon.pipeline._lexicon import (
    CODE_TASKS,
    CODING_CUES,
    DEICTIC,
    EXTENSION_TECH,
    GREETING,
    PKM_CUES,
    TASK_CUES,
    TECHNOLOGIES,
    VAGUE,
)
from axon.pipeline.collector import PromptMetadata
from axon.pipeline.types import NOTE_TASKS, Analysis, Entities, Intent, TaskType
from axon.retrieval.entities import extract_entities as retrieval_entities
from axon.retrieval.tokenize import STOPWORDS, tokenize

_FLAGS = re.IGNORECASE


def _bounded(pattern: str) -> str:
    # Word boundaries that also work next to punctuation-led cues like ".py" or "[[".
    return rf"(?<![\w-])(?:{pattern})(?![\w-])"


@dataclass(frozen=True, slots=True)
class _Cue:
    regex: re.Pattern[str]
    weight: float


def _compile(cues: dict[str, float]) -> tuple[_Cue, ...]:
    return tuple(_Cue(re.compile(_bounded(p), _FLAGS), w) for p, w in cues.items())


_TASKS = {task: _compile(cues) for task, cues in TASK_CUES.items()}
_PKM = _compile(PKM_CUES)
_CODING = _compile(CODING_CUES)
_TECH = {name: re.compile(_bounded(p), _FLAGS) for name, p in TECHNOLOGIES.items()}
_DEICTIC = re.compile(_bounded(DEICTIC), _FLAGS)
_VAGUE = re.compile(_bounded(VAGUE), _FLAGS)
_GREETING = re.compile(rf"^\s*(?:{GREETING})\b", _FLAGS)

_CODE_FENCE = re.compile(r"```|^(?: {4}|\t)\S", re.MULTILINE)
_QUESTION_WORDS = frozenset(["what", "how", "why", "when", "where", "which", "who"])


def extract_entities(text: str) -> Entities:
    """Paths, symbols, errors and frames (shared with retrieval), plus technologies."""
    found = retrieval_entities(text)
    technologies = [name for name, rx in _TECH.items() if rx.search(text)]
    for path in found.paths:
        tech = EXTENSION_TECH.get(path.rsplit(".", 1)[-1].lower())
        if tech is not None and tech not in technologies:
            technologies.append(tech)
    frames = [
        f"{f.path}:{f.line}" + (f" in {f.function}" if f.function else "") for f in found.frames
    ]
    return Entities(
        paths=found.paths,
        symbols=list(dict.fromkeys([*found.symbols, *found.modules])),
        errors=[*found.errors, *found.messages],  # exception names, then their messages
        stack_frames=frames,
        technologies=technologies,
    )


def _score(cues: tuple[_Cue, ...], text: str) -> float:
    return sum(cue.weight for cue in cues if cue.regex.search(text))


def _confidence(best: float, runner_up: float) -> float:
    # Margin-based: one decisive cue with no competitor ~0.85; ties ~0.5; capped at 0.97.
    if best <= 0:
        return 0.4
    margin = (best - runner_up) / best
    strength = best / (best + 1.5)
    return round(min(0.97, 0.35 + 0.35 * margin + 0.3 * strength), 3)


class Analyzer:
    """Rules over the prompt text, the editor metadata and the workspace type."""

    def analyze(
        self,
        prompt: str,
        metadata: PromptMetadata | None = None,
        workspace_type: WorkspaceType = WorkspaceType.CODING,
        task_override: TaskType | None = None,
    ) -> Analysis:
        metadata = metadata or PromptMetadata()
        # Selected code is evidence for entities, not for the task: "fix" in a comment
        # inside the selection says nothing about what the user asks.
        entities = extract_entities(
            "\n".join(filter(None, [prompt, metadata.selected_code, metadata.file]))
        )
        intent, intent_conf = self._intent(prompt, entities, metadata, workspace_type)
        task, task_conf, runner_up = self._task(prompt, intent, entities)
        if _GREETING.match(prompt) and len(prompt.split()) <= 5:
            # "Hello, testing deployment": a greeting, not a deployment request.
            intent, intent_conf, task, task_conf = Intent.GENERAL, 0.8, TaskType.GENERAL_QUERY, 0.8
        if task_override is not None:
            task, task_conf = task_override, 1.0
            if task in NOTE_TASKS:
                intent = Intent.PKM
            elif intent is Intent.GENERAL and task is not TaskType.GENERAL_QUERY:
                intent = Intent.CODING
        reasons, questions = self._ambiguity(prompt, entities, metadata, task_conf, runner_up)
        ambiguity = 1.0
        for weight, _ in reasons:
            ambiguity *= 1 - weight
        return Analysis(
            intent=intent,
            intent_confidence=intent_conf,
            task_type=task,
            task_confidence=task_conf,
            task_overridden=task_override is not None,
            entities=entities,
            keywords=self._keywords(prompt),
            ambiguity=round(1 - ambiguity, 3),
            ambiguity_reasons=[text for _, text in reasons],
            clarifying_questions=questions,
        )

    def _intent(
        self,
        prompt: str,
        entities: Entities,
        metadata: PromptMetadata,
        workspace_type: WorkspaceType,
    ) -> tuple[Intent, float]:
        coding = _score(_CODING, prompt) + _score(_TASKS_CODE_STRONG, prompt)
        coding += 2.0 * bool(entities.errors or entities.stack_frames)
        coding += 1.5 * bool(entities.technologies) + 1.0 * bool(entities.symbols)
        coding += 1.0 * bool([p for p in entities.paths if not p.lower().endswith((".md", ".txt"))])
        coding += 2.0 * bool(_CODE_FENCE.search(prompt))
        coding += 2.0 * bool(metadata.file or metadata.selected_code or metadata.diagnostics)
        pkm = _score(_PKM, prompt)
        pkm += 1.0 * bool([p for p in entities.paths if p.lower().endswith(".md")])
        if workspace_type is WorkspaceType.PKM:
            pkm += 1.5
        elif workspace_type is WorkspaceType.CODING:
            coding += 0.5
        if max(coding, pkm) < 1.5:
            # Confident it is general when there is no evidence at all.
            return Intent.GENERAL, round(0.85 - 0.25 * max(coding, pkm), 3)
        if pkm > coding:
            return Intent.PKM, _confidence(pkm, coding)
        return Intent.CODING, _confidence(coding, pkm)

    def _task(
        self, prompt: str, intent: Intent, entities: Entities
    ) -> tuple[TaskType, float, float]:
        allowed = NOTE_TASKS if intent is Intent.PKM else CODE_TASKS
        scores = {task: _score(_TASKS[task], prompt) for task in allowed}
        if intent is Intent.CODING and (entities.errors or entities.stack_frames):
            scores[TaskType.BUG_FIX] += 2.0
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], _TASK_ORDER[kv[0]]))
        (best, best_score), (_, second_score) = ranked[0], ranked[1]
        if best_score < 1.5:
            fallback = TaskType.NOTE_SEARCH if intent is Intent.PKM else TaskType.GENERAL_QUERY
            if intent is Intent.PKM and best_score > 0:
                return best, _confidence(best_score, second_score) * 0.8, second_score
            return fallback, _confidence(0, 0), best_score
        return best, _confidence(best_score, second_score), second_score

    def _ambiguity(
        self,
        prompt: str,
        entities: Entities,
        metadata: PromptMetadata,
        task_conf: float,
        runner_up: float,
    ) -> tuple[list[tuple[float, str]], list[str]]:
        reasons: list[tuple[float, str]] = []
        questions: list[str] = []
        words = re.findall(r"\w+", prompt)
        has_anchor = bool(
            entities.paths
            or entities.symbols
            or entities.errors
            or metadata.file
            or metadata.selected_code
            or _CODE_FENCE.search(prompt)
        )
        if len(words) < 4:
            reasons.append((0.35, "the prompt is very short"))
            questions.append("Can you describe in a sentence what you want to achieve?")
        if _DEICTIC.search(prompt) and not has_anchor and len(words) < 25:
            reasons.append((0.35, "it refers to something ('this', 'it') without naming it"))
            questions.append("Which file, function or error do you mean?")
        if _VAGUE.search(prompt) and not entities.errors:
            reasons.append((0.25, "the request is vague about the expected outcome"))
            questions.append("What should happen instead, and what happens now?")
        if task_conf < 0.5:
            reasons.append((0.2, "the kind of task is unclear"))
            questions.append("Do you want an explanation, a fix, a change, or a review?")
        elif runner_up > 0 and task_conf < 0.6:
            reasons.append((0.1, "the prompt mixes several kinds of task"))
            questions.append("Which part should come first?")
        return reasons, questions

    def _keywords(self, prompt: str) -> list[str]:
        words = [w for w in tokenize(prompt) if w not in STOPWORDS and w not in _QUESTION_WORDS]
        return list(dict.fromkeys(words))[:24]


# Strong cues of the coding tasks are coding evidence on their own ("refactor",
# "unit test", "deploy"); explaining is not, it applies to anything.
_TASKS_CODE_STRONG = tuple(
    cue
    for task in CODE_TASKS - {TaskType.EXPLAIN, TaskType.GENERAL_QUERY}
    for cue in _TASKS[task]
    if cue.weight >= 2.5
)
# Tie-break order: the more specific task wins a tie.
_TASK_ORDER = {
    task: rank
    for rank, task in enumerate(
        [
            TaskType.SECURITY,
            TaskType.PERFORMANCE,
            TaskType.BUG_FIX,
            TaskType.TEST,
            TaskType.REFACTOR,
            TaskType.CODE_REVIEW,
            TaskType.DOCUMENTATION,
            TaskType.DEPLOYMENT,
            TaskType.FEATURE_ADD,
            TaskType.EXPLAIN,
            TaskType.GENERAL_QUERY,
            TaskType.NOTE_LINK,
            TaskType.NOTE_SUMMARIZE,
            TaskType.NOTE_SEARCH,
            TaskType.NOTE_WRITE,
        ]
    )
}
