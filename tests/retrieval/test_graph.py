"""The code graph as a ranking signal: a walk from the files defining what the query names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from axon.config import Settings, load_settings
from axon.indexing import index_workspace
from axon.models import Workspace, WorkspaceType
from axon.ports import SearchRequest
from axon.retrieval.graph import MAX_DEFINERS, FileGraph
from axon.services import build_services


def _rows(files: dict[str, list[tuple[str, str, str]]]) -> list[tuple[str, str]]:
    """(path, JSON rows) as the store keeps them, from (name, role, kind) triples."""
    return [
        (path, json.dumps([[name, role, kind, 1, name, None] for name, role, kind in symbols]))
        for path, symbols in files.items()
    ]


D, R = "definition", "reference"


def test_the_walk_reaches_callers_and_callees_of_what_the_query_names() -> None:
    graph = FileGraph.build(
        _rows(
            {
                "pricing.py": [("apply_discount", D, "function"), ("lookup_rate", R, "call")],
                "rates.py": [("lookup_rate", D, "function")],
                "checkout.py": [("finish", D, "function"), ("apply_discount", R, "call")],
                "unrelated.py": [("render", D, "function")],
                "constants.py": [("apply_discount", D, "variable")],  # not a definer
            }
        )
    )
    assert graph.definers["apply_discount"] == (graph.files["pricing.py"],)
    rank = graph.rank(graph.seeds(["apply_discount", "not_defined_anywhere"]))
    assert rank["pricing.py"] == 1.0
    assert 0 < rank["rates.py"] < 1.0 and 0 < rank["checkout.py"] < 1.0  # callee, caller
    assert "unrelated.py" not in rank and "constants.py" not in rank
    assert graph.rank(graph.seeds(["nothing"])) == {}


def test_a_name_defined_in_many_files_makes_no_edge() -> None:
    common = {f"m{i}.py": [("run", D, "method")] for i in range(MAX_DEFINERS + 1)}
    graph = FileGraph.build(_rows({**common, "main.py": [("run", R, "call")]}))
    assert "run" not in graph.definers and len(graph.source) == 0
    assert FileGraph.build([]).rank({}) == {}


@pytest.fixture
def graph_settings(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("AXON_EMBEDDER", "none")
    monkeypatch.setenv("AXON_RANK_GRAPH_WEIGHT", "0.5")
    return load_settings()


async def test_search_shows_the_graph_term_in_the_breakdown(
    graph_settings: Settings, tmp_path: Path
) -> None:
    (tmp_path / "pricing.py").write_text(
        "from rates import lookup_rate\n\n\ndef apply_discount(order, code):\n"
        "    return order.total * (1 - lookup_rate(code))\n"
    )
    (tmp_path / "rates.py").write_text(
        "RATES = {}\n\n\ndef lookup_rate(code):\n    return RATES.get(code, 0.0)\n"
    )
    (tmp_path / "report.py").write_text(
        "def order_report(order):\n    return f'order {order.id}: total {order.total}'\n"
    )
    services = await build_services(graph_settings)
    try:
        workspace = Workspace(
            id="graph", name="graph", type=WorkspaceType.CODING, path=str(tmp_path)
        )
        await services.store.create_workspace(workspace)
        await index_workspace(
            services.store,
            services.search_index,
            workspace,
            max_file_bytes=graph_settings.index_max_file_bytes,
        )
        query = "apply_discount gives the wrong order total for a code"
        hits = await services.retriever.search(SearchRequest(query, "graph", limit=10))
    finally:
        await services.close()
    graph = {h.context.path: h.breakdown.graph for h in hits}
    assert graph["pricing.py"] == pytest.approx(0.5)  # the seed: the walk's best file
    assert 0 < graph["rates.py"] < 0.5  # the function it calls
    assert graph.get("report.py", 0.0) == 0.0  # shares words, not code
