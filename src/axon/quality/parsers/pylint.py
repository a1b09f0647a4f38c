"""pylint `--output-format=json`."""

from __future__ import annotations

from axon.quality.models import Finding, Severity
from axon.quality.parsers._base import UNRECOGNISED, Parsed, ToolOutput, json_list, relative

_SEVERITY = {"fatal": Severity.ERROR, "error": Severity.ERROR, "warning": Severity.WARNING}
USAGE_ERROR = 32  # pylint's exit status is a bit mask; 32 means it could not run


def parse_pylint(out: ToolOutput) -> Parsed:
    if out.exit_code is not None and out.exit_code & USAGE_ERROR:
        return UNRECOGNISED
    data = json_list(out.stdout)
    if data is None:
        return UNRECOGNISED
    findings = [
        Finding(
            file=relative(out.root, str(item.get("path") or "")) or None,
            line=item.get("line"),
            column=item.get("column"),
            rule=item.get("symbol") or item.get("message-id"),
            severity=_SEVERITY.get(str(item.get("type")), Severity.INFO),
            message=str(item.get("message", "")),
        )
        for item in data
    ]
    return Parsed(recognised=True, findings=findings)
