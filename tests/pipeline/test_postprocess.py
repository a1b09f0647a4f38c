"""Post-processor: quality signals, actions and captured knowledge."""

from __future__ import annotations

from axon.models import ContextType
from axon.pipeline.analyzer import Analyzer
from axon.pipeline.postprocess import PostProcessor

post = PostProcessor()
analyzer = Analyzer()

ANSWER = """Update `src/app/config.py`:

```python
def load(path):
    return parse(path)
```

```ts title="web/api.ts"
export const api = 1;
```

```go
// cmd/main.go
package main
```

Then run:

```bash
$ pip install -e .
# a comment
pytest -q
```

Create a new file `docs/setup.md` for the steps. We decided to use PostgreSQL for orders.
By convention, always use UTC timestamps in logs.
"""


def test_actions_name_languages_files_and_commands() -> None:
    actions = [a.dump() for a in post.actions(ANSWER)]
    code = [(a["language"], a["file"]) for a in actions if a["type"] == "code"]
    assert code == [("python", "src/app/config.py"), ("ts", "web/api.ts"), ("go", "cmd/main.go")]
    commands = [a["content"] for a in actions if a["type"] == "command"]
    assert commands == ["pip install -e .", "pytest -q"]
    assert {"type": "createFile", "language": None, "file": "docs/setup.md", "content": None} in (
        actions
    )


def test_quality_signals() -> None:
    fix = analyzer.analyze("Fix the crash in load()")
    full = post.process(fix, "Fix the crash in load()", ANSWER, "stop").quality
    assert (full.code_blocks, full.missing_code, full.truncated) == (4, False, False)
    bare = post.process(fix, "Fix it", "Just restart it.", "length").quality
    assert bare.missing_code and bare.truncated and bare.expects_code
    context_only = post.process(fix, "Fix it", None, "context_only").quality
    assert not context_only.missing_code and not context_only.empty


def test_captures_decisions_and_patterns_outside_code() -> None:
    captures = post.captures(ANSWER + "\n```\nwe decided to hide this in code\n```\n")
    assert [(c.type, c.text) for c in captures] == [
        (ContextType.DECISION, "We decided to use PostgreSQL for orders."),
        (ContextType.PATTERN, "By convention, always use UTC timestamps in logs."),
    ]
    assert post.captures("How do I always win?") == []
