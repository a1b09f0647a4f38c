"""`axon ask PROMPT` (answer, streamed) and `axon context PROMPT` (context only).

Both run the same pipeline as POST /api/v1/prompts/process. `context` stops
before the model: it prints the synthesized context, the report and the
enriched prompt, and stores nothing.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from axon.cli._app import app, fail, run_with_services
from axon.cli.contexts import context_app
from axon.kinds import Strategy, TaskType

if TYPE_CHECKING:
    from axon.pipeline import Prepared, PromptRequest
    from axon.services import Services

WorkspaceOpt = Annotated[str, typer.Option("--workspace", "-w", help="workspace id")]
ModelOpt = Annotated[str | None, typer.Option("--model", help="model, e.g. openai:gpt-4o")]
TaskOpt = Annotated[TaskType | None, typer.Option("--task-type", help="override the task type")]
StrategyOpt = Annotated[Strategy | None, typer.Option("--strategy", help="injection strategy")]
AllowDegradedOpt = Annotated[
    bool,
    typer.Option(
        "--allow-degraded",
        help="go on without context when retrieval fails (default: exit 1 and say why)",
    ),
]


def _request(prompt: str, workspace: str, **fields: Any) -> PromptRequest:
    from axon.pipeline import PromptRequest
    from axon.pipeline.types import Source

    text = sys.stdin.read() if prompt == "-" else prompt
    return PromptRequest.model_validate(
        {"prompt": text, "workspace_id": workspace, "source": Source.CLI, **fields}
    )


async def _prepare(services: Services, request: PromptRequest, allow_degraded: bool) -> Prepared:
    """Run the pipeline up to the model. The model and the workspace's search arrays
    load first: seconds of loading must not count against the retrieval timeout. A
    failed retrieval is an error here unless `allow_degraded`, never a silent answer
    without context."""
    from rich.console import Console

    from axon.startup import warm_search

    known = await services.store.get_workspace(request.workspace_id) is not None
    await warm_search(services, [request.workspace_id] if known else [])
    prepared = await services.pipeline.prepare(request)
    failed = [d.message for d in prepared.degraded if d.stage == "retrieve"]
    if failed and not allow_degraded:
        fail(f"{'; '.join(failed)} (AXON_RETRIEVAL_TIMEOUT_SECONDS; --allow-degraded goes on)")
    for message in failed:
        Console(stderr=True).print(f"[yellow]warning:[/yellow] {message}", highlight=False)
    return prepared


def _print_report(run: Prepared) -> None:
    """What went into the context, by score: whole paths with line ranges, then why."""
    from axon.cli._text import clean, location

    report = run.context.report
    typer.echo(f"Context: {report.used_tokens}/{report.budget} tokens, {report.strategy} strategy")
    for e in sorted(report.entries, key=lambda e: -e.score):
        typer.echo(f"  {e.score:.3f}  {location(e.path, e.start_line, e.end_line, e.id)}")
        tokens = f"{e.tokens}/{e.original_tokens} tokens"
        typer.echo(f"         {e.status.value} · {e.kind.value} · {tokens} · {clean(e.reason)}")


@app.command()
def ask(
    prompt: Annotated[str, typer.Argument(help="the prompt, or - to read stdin")],
    workspace: WorkspaceOpt,
    model: ModelOpt = None,
    task_type: TaskOpt = None,
    strategy: StrategyOpt = None,
    show_context: Annotated[
        bool, typer.Option("--show-context", help="print the context report first")
    ] = False,
    allow_degraded: AllowDegradedOpt = False,
) -> None:
    """Ask a question with the workspace's context; the answer streams to stdout."""
    from rich.console import Console

    from axon.pipeline import Answer

    err = Console(stderr=True)
    request = _request(
        prompt, workspace, model=model, task_type=task_type, strategy=strategy, stream=True
    )

    async def run(services: Services) -> None:
        pipeline = services.pipeline
        prepared = await _prepare(services, request, allow_degraded)
        if show_context:
            _print_report(prepared)
        answer: Answer | None = None
        async for part in pipeline.stream(prepared):
            if isinstance(part, Answer):
                answer = part
            elif isinstance(part, str):
                sys.stdout.write(part)
                sys.stdout.flush()
        assert answer is not None
        await pipeline.finish(prepared, answer)
        await pipeline.drain()
        if answer.error is not None:
            if answer.text:  # part of the answer was printed before the model failed
                print()
                fail(f"the answer broke off: {answer.error.message}")
            fail(f"no answer: {answer.error.message}")
        for problem in prepared.degraded:
            if problem.stage != "retrieve":  # that one was said before the answer
                err.print(f"[yellow]warning:[/yellow] {problem.message}", highlight=False)
        if answer.text is None:
            err.print(
                "[yellow]no LLM configured (context-only mode): printing the enriched prompt"
                "[/yellow]",
                highlight=False,
            )
            print(prepared.prompt.system + "\n")
            for message in prepared.prompt.messages:
                print(f"[{message.role}]\n{message.content}\n")
        else:
            print()

    run_with_services(run)


@context_app.command("build")
def build(
    prompt: Annotated[str, typer.Argument(help="the prompt, or - to read stdin")],
    workspace: WorkspaceOpt,
    budget: Annotated[int | None, typer.Option("--budget", help="context budget in tokens")] = None,
    model: ModelOpt = None,
    task_type: TaskOpt = None,
    strategy: StrategyOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    allow_degraded: AllowDegradedOpt = False,
) -> None:
    """Build the context for a prompt without calling a model."""
    from axon.cli._output import print_json

    request = _request(
        prompt, workspace, budget=budget, model=model, task_type=task_type, strategy=strategy
    )

    async def run(services: Services) -> None:
        prepared = await _prepare(services, request, allow_degraded)
        if as_json:
            print_json(
                {
                    "analysis": prepared.analysis.dump(),
                    "context": {
                        "report": prepared.context.report.dump(),
                        "items": [item.dump() for item in prepared.context.items],
                    },
                    "prompt": {
                        "system": prepared.prompt.system,
                        "messages": [
                            {"role": m.role, "content": m.content} for m in prepared.prompt.messages
                        ],
                        "tokens": prepared.prompt.tokens,
                    },
                    "latency": prepared.latency,
                    "degraded": [d.dump() for d in prepared.degraded],
                }
            )
            return
        analysis = prepared.analysis
        typer.echo(
            f"intent {analysis.intent.value}, task {analysis.task_type.value} "
            f"({analysis.task_confidence:.2f}), ambiguity {analysis.ambiguity:.2f}"
        )
        _print_report(prepared)
        for message in prepared.prompt.messages:
            typer.echo(f"[{message.role}]\n{message.content}\n")

    run_with_services(run)
