"""Long schemathesis run over the OpenAPI document, with and without auth.

Rounds alternate between a server with auth off and one with auth on (an admin
key), each a full `st run` with every check (response schemas, status codes,
content types, headers, positive and negative data, unsupported methods,
ignored auth, ...) on a fresh seed, until the servers have answered at least
`--requests` requests. Prints the requests, test cases and failures by check of
every round and the totals; the target is zero failures.

    python bench/fuzz.py [--requests 20000] [--max-examples 60] [--out bench/results/fuzz.txt]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fuzzing import FuzzRun, axon_server, run_schemathesis


def run_rounds(target: int, max_examples: int, first_seed: int, workers: int) -> list[FuzzRun]:
    runs: list[FuzzRun] = []
    with tempfile.TemporaryDirectory(prefix="axon-fuzz-") as tmp:
        root = Path(tmp)
        servers = {auth: axon_server(root / f"server-{auth}", auth=auth) for auth in (False, True)}
        with servers[False] as open_server, servers[True] as keyed_server:
            round_no = 0
            while sum(r.requests for r in runs) < target:
                auth = round_no % 2 == 1
                server = keyed_server if auth else open_server
                run = run_schemathesis(
                    server,
                    root / f"round-{round_no}",
                    label=f"round {round_no + 1}, auth {'on' if auth else 'off'}",
                    max_examples=max_examples,
                    seed=first_seed + round_no,
                    workers=workers,
                )
                runs.append(run)
                print(_line(run), flush=True)
                if run.failures:
                    print(run.summary, flush=True)
                round_no += 1
    return runs


def _line(run: FuzzRun) -> str:
    failures = ", ".join(f"{k}: {v}" for k, v in sorted(run.failures.items())) or "none"
    flaky = f"; generator flakes (never sent): {', '.join(run.generator_errors)}"
    return (
        f"{run.label}: {run.requests} requests, {run.test_cases} test cases, "
        f"{run.operations} operations, {run.seconds:.0f} s; failures: {failures}"
        + (flaky if run.generator_errors else "")
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--max-examples", type=int, default=60)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2, help="schemathesis workers")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    began = time.monotonic()
    runs = run_rounds(args.requests, args.max_examples, args.seed, args.workers)
    failures: Counter[str] = Counter()
    for run in runs:
        failures.update(run.failures)
    by_auth = {
        label: sum(r.requests for r in runs if label in r.label)
        for label in ("auth off", "auth on")
    }
    lines = [
        f"schemathesis {len(runs)} rounds, --max-examples {args.max_examples}, "
        f"seeds {args.seed}..{args.seed + len(runs) - 1}, every check",
        *(_line(run) for run in runs),
        f"total: {sum(r.requests for r in runs)} requests "
        f"({by_auth['auth off']} auth off, {by_auth['auth on']} auth on), "
        f"{sum(r.test_cases for r in runs)} test cases, "
        f"{time.monotonic() - began:.0f} s wall",
        "failures by check: "
        + (", ".join(f"{k}: {v}" for k, v in sorted(failures.items())) or "none (target: none)"),
        f"load average before {' '.join(f'{x:.2f}' for x in load_before)}, "
        f"after {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
    ]
    report = "\n".join(lines)
    print("\n" + report)
    if args.out:
        args.out.write_text(report + "\n")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
