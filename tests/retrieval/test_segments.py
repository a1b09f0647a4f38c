"""Long, noisy queries: issue texts cut into prose, code, tracebacks, dumps and template."""

from __future__ import annotations

import pytest

from axon.indexing.chunking import chunk_file, to_contexts
from axon.indexing.languages import detect_language
from axon.kinds import MAX_QUERY_CHARS
from axon.models import WorkspaceType
from axon.ports import SearchRequest
from axon.retrieval.entities import extract_entities
from axon.retrieval.query import query_terms
from axon.retrieval.segments import Kind, focus, segment
from axon.services import Services
from tests.retrieval.conftest import add_workspace, store_and_index

SHOW_VERSIONS = """\
<details><summary>Output of <tt>xr.show_versions()</tt></summary>

INSTALLED VERSIONS
------------------
commit: None
python: 3.7.3 (default, Mar 27 2019, 22:11:17)
[GCC 7.3.0]
python-bits: 64
OS: Linux
machine: x86_64
LC_ALL: None
LANG: en_GB.UTF-8
libhdf5: 1.10.4

xarray: 0.15.1
nc_time_axis: None
setuptools: 41.0.0
</details>
"""

REPORT = f"""\
to_unstacked_dataset broken for single-dim variables
<!-- A short summary of the issue, if appropriate -->

#### MCVE Code Sample

```python
stacked = data.to_stacked_array('y', sample_dims=['x'])
unstacked = stacked.to_unstacked_dataset('y')
```

#### Versions

{SHOW_VERSIONS}"""

TRACEBACK = """\
Traceback (most recent call last):
  File "/venv/lib/python3.9/site-packages/pylint/lint/run.py", line 161, in __init__
    args = _config_initialization(
  File "/usr/lib/python3.9/re.py", line 252, in compile
    return _compile(pattern, flags)
re.error: bad escape \\p at position 1
"""


def _kinds(text: str) -> dict[Kind, str]:
    found: dict[Kind, str] = {}
    for seg in segment(text):
        found[seg.kind] = found.get(seg.kind, "") + seg.text + "\n"
    return found


def test_a_version_dump_with_its_caption_and_the_template_are_boilerplate() -> None:
    kinds = _kinds(REPORT)
    assert "nc_time_axis: None" in kinds[Kind.VERSIONS]
    assert "show_versions" in kinds[Kind.VERSIONS]  # the <summary> caption goes with it
    assert "#### MCVE Code Sample" in kinds[Kind.TEMPLATE]
    assert "A short summary" in kinds[Kind.TEMPLATE]
    assert "to_unstacked_dataset('y')" in kinds[Kind.CODE]
    kept = focus(REPORT)
    assert "to_unstacked_dataset broken" in kept and "sample_dims" in kept
    for noise in ("LC_ALL", "nc_time_axis", "show_versions", "Versions", "libhdf5"):
        assert noise not in kept
    entities = extract_entities(kept)
    assert "nc_time_axis" not in entities.symbols and "show_versions" not in entities.symbols
    assert "to_unstacked_dataset" in entities.symbols
    assert "versions" not in query_terms(kept, entities)


@pytest.mark.parametrize(
    "dump",
    [
        "```\nPackage    Version\n---------- -------\nattrs      19.1.0\nblack      19.10b0\n"
        "pluggy     0.13.0\n```",
        "nox > pip freeze\nattrs==19.3.0\nmore-itertools==8.0.2\npytest==5.3.2\n",
        "```shell\npylint 2.14.1\nastroid 2.11.5\n"
        "Python 3.9.6 (tags/v3.9.6:db3ff76) [MSC v.1929]\n```",
        "pandas           : 1.0.3\nnumpy            : 1.17.3\nscipy            : None\n",
    ],
    ids=["pip-list", "pip-freeze", "tool-versions", "aligned-colons"],
)
def test_dumps_of_every_usual_shape_are_found(dump: str) -> None:
    text = f"Calling foo_bar() raises an error.\n\n{dump}\n\nIt should not."
    kinds = _kinds(text)
    assert Kind.VERSIONS in kinds
    kept = focus(text)
    assert "foo_bar()" in kept and "It should not." in kept
    assert "19.1.0" not in kept and "pytest==5.3.2" not in kept and "2.11.5" not in kept
    assert "1.17.3" not in kept


@pytest.mark.parametrize(
    "text",
    [
        # A config with plain numbers is the report's, not a dump.
        "```yaml\nretries: 3\ntimeout: 30\nversion: 2\nworkers: 4\n```",
        # Two version lines in prose are not enough.
        "Works with pytest 5.4.3.\nFails with pytest 6.0.0 on Linux.",
        # Code with a colon on every line.
        "```python\nclass Foo(Bar):\n    def run(self):\n        if x:\n            pass\n```",
        # A heading that names code is the report's.
        "### `Session.send` drops the timeout\nIt ignores timeout=1.0.",
    ],
)
def test_what_only_looks_like_boilerplate_stays(text: str) -> None:
    assert focus(text) == text


def test_a_traceback_runs_from_its_header_to_its_error_line() -> None:
    text = f"Running pylint fails:\n\n{TRACEBACK}\nIt should not."
    [tb] = [s for s in segment(text) if s.kind is Kind.TRACEBACK]
    assert tb.text.startswith("Traceback (most recent call last):")
    assert tb.text.rstrip().endswith("re.error: bad escape \\p at position 1")
    assert focus(text) == text  # a traceback is evidence, never boilerplate


def test_template_headings_checklists_and_empty_answers_go() -> None:
    text = (
        "### Bug description\n\nlinkcheck ignores anchors\n\n- [x] I searched the issues\n"
        "\n### Additional dependencies\n\n_No response_\n"
    )
    assert focus(text).split() == ["linkcheck", "ignores", "anchors"]


def test_a_text_that_is_all_boilerplate_is_searched_whole() -> None:
    assert focus(SHOW_VERSIONS) == SHOW_VERSIONS


def _lossless(text: str) -> bool:
    """The segments give back the text: its comments first, then every other line."""
    segments = segment(text)
    comments = [s for s in segments if s.kind is Kind.TEMPLATE and s.text.startswith("<!--")]
    rest = segments[len(comments) :]
    for comment in comments:
        text = text.replace(comment.text, "", 1)
    return "\n".join(s.text for s in rest) == text


def test_every_line_lands_in_one_segment_in_order() -> None:
    text = f"{REPORT}\n{TRACEBACK}\n```\nunclosed fence\nstill code"
    assert _lossless(text)
    last = segment(text)[-1]
    assert last.kind is Kind.CODE and last.text.endswith("still code")


HOSTILE = MAX_QUERY_CHARS  # the longest query search accepts


@pytest.mark.parametrize(
    "text",
    [
        "<!--" * (HOSTILE // 4),  # comments that never close
        "<!---->" * (HOSTILE // 7),  # comments that close at once
        "```\n" * (HOSTILE // 4),  # fences only
        "```" + "\n" * HOSTILE,  # one unclosed fence over blank lines
        "a: 1.0\n" * (HOSTILE // 7),  # one long dump
        "a: 1.0\nx\n" * (HOSTILE // 9),  # dumps too short to count, again and again
        "\n" * HOSTILE + "a: 1.0\n" * 3,  # a dump after a long blank stretch
        "Traceback (most recent call last):\n" * (HOSTILE // 35),
        "Traceback (most recent call last):\n" + "  x\n" * (HOSTILE // 4),
        "a" * HOSTILE,  # one long line
        "a:" + " 1.0" * (HOSTILE // 4),  # one long dump-like line
        "### " + "#" * HOSTILE,
        "<a " + "<" * HOSTILE,
        "pytest-1.0 " * (HOSTILE // 11),
        "- [ ] " * (HOSTILE // 6),
    ],
    ids=lambda t: repr(t[:12]),
)
def test_hostile_inputs_of_the_longest_query_size_segment_whole(text: str) -> None:
    assert _lossless(text)
    assert isinstance(focus(text), str)


PRINT_VERSIONS = '''\
def show_versions(file=None):
    """Print the versions of the dependencies: python, python-bits, OS, OS-release,
    machine, processor, byteorder, LC_ALL, LANG, LOCALE, libhdf5, libnetcdf."""
    deps = [
        ("xarray", lambda mod: mod.__version__),
        ("setuptools", lambda mod: mod.__version__),
        ("nc_time_axis", lambda mod: mod.__version__),
    ]
    print("INSTALLED VERSIONS", file=file)
    print("------------------", file=file)
'''
STACKING = '''\
def to_unstacked_dataset(self, dim, level=0):
    """Unstack a stacked array back into a dataset of variables (to_stacked_array)."""
    idx = self.indexes[dim]
    variables = {k: self.sel({dim: k}).squeeze(drop=True) for k in idx.levels[level]}
    return Dataset(variables)
'''


async def test_a_version_dump_does_not_pull_in_the_file_that_prints_versions(
    shop: Services,
) -> None:
    await add_workspace(shop, "noisy")
    contexts = []
    for path, text in {
        "pkg/print_versions.py": PRINT_VERSIONS,
        "pkg/stacking.py": STACKING,
    }.items():
        language = detect_language(path)
        chunks = chunk_file(path, text, language, WorkspaceType.CODING)
        contexts += to_contexts("noisy", path, language, chunks, [20] * len(chunks))
    await store_and_index(shop, contexts)
    hits = await shop.retriever.search(SearchRequest(REPORT, "noisy", limit=5))
    paths = [h.context.path for h in hits]
    # The printer shares a word or two of the report, no entity and no rank above it.
    assert paths == sorted(paths, key=lambda p: p != "pkg/stacking.py")
    assert paths[0] == "pkg/stacking.py"
    assert all(not h.matched_entities for h in hits if h.context.path == "pkg/print_versions.py")
