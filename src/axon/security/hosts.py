"""Which Host and Origin headers the API accepts: the defence against DNS rebinding.

A page on another site can make a browser send requests to a server on loopback
(by pointing its own name at 127.0.0.1, or by posting a form). The browser then
sends that site's name as Host, or its origin as Origin; refusing both unless
configured keeps the API to the clients it was meant for, with auth off too.

Entries of AXON_ALLOWED_HOSTS are host names or addresses without a port, or
`*.example.com` (any name under example.com), or `*` (every host: for proxies that
check the Host themselves). Unset, the list is the local names and loopback
addresses plus the address the server is bound to (unless a wildcard).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

LOCAL_HOSTS = ("localhost", "*.localhost", "127.0.0.1", "::1")
_WILDCARD_BINDS = {"", "0.0.0.0", "::"}
_NAME_RE = re.compile(r"^(\*|(\*\.)?[a-z0-9_-]+(\.[a-z0-9_-]+)*|[0-9a-f:.]+)$")


def allowed_hosts(configured: Iterable[str], bound_host: str) -> tuple[str, ...]:
    hosts = tuple(h.strip().lower().rstrip(".") for h in configured if h.strip())
    if hosts:
        return hosts
    bound = bound_host.strip().lower().strip("[]")
    return LOCAL_HOSTS + (() if bound in _WILDCARD_BINDS or bound in LOCAL_HOSTS else (bound,))


def check_entry(entry: str) -> None:
    """Raise ValueError unless the entry is a name, an address, `*.name` or `*`."""
    if not _NAME_RE.match(entry.strip().lower().rstrip(".")):
        raise ValueError(f"'{entry}' is not a host name, an address, '*.name' or '*'")


def host_name(header: str) -> str | None:
    """The name in a Host header, without its port; None if malformed."""
    value = header.strip().lower()
    if value.startswith("["):  # [v6] or [v6]:port
        end = value.find("]")
        rest = value[end + 1 :]
        if end < 0 or (rest and not rest.startswith(":")):
            return None
        name, port = value[1:end], rest[1:]
    elif value.count(":") == 1:
        name, port = value.split(":")
    else:
        name, port = value, ""
    if port and not port.isdigit():
        return None
    name = name.rstrip(".")
    if not name:
        return None
    try:
        return str(ipaddress.ip_address(name))
    except ValueError:
        return name if _NAME_RE.match(name) and "*" not in name else None


def host_allowed(name: str | None, allowed: tuple[str, ...]) -> bool:
    if name is None:
        return False
    for entry in allowed:
        if entry == "*" or entry == name:
            return True
        if entry.startswith("*.") and name.endswith(entry[1:]):
            return True
    return False


def origin_allowed(origin: str, hosts: tuple[str, ...], cors_origins: tuple[str, ...]) -> bool:
    """A browser origin may change things if it is a CORS origin or one of the hosts."""
    value = origin.strip().lower().rstrip("/")
    if "*" in cors_origins or value in cors_origins:
        return True
    if value == "null":  # sandboxed frames and files: never one of ours
        return False
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False
    return host_allowed(host_name(parts.netloc), hosts)
