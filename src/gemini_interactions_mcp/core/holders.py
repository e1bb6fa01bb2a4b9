"""Who holds a lease: one server process incarnation, and whether it is known to be gone.

A holder is ``host/pid/incarnation``. A lease whose holder ran on this host in a process that
no longer exists belongs to nobody: it is taken over at once instead of waiting for it to
expire. A holder in a live process (this one included: it may run several servers) or on
another host is trusted until its lease expires.
"""

from __future__ import annotations

import os
import secrets
import socket

__all__ = ["gone", "new_holder"]


def new_holder() -> str:
    """An identity for this server incarnation."""
    return f"{socket.gethostname()}/{os.getpid()}/{secrets.token_hex(6)}"


def gone(holder: str, me: str) -> bool:
    """True when `holder` is known not to run any more (from the point of view of `me`)."""
    if not holder or holder == me:
        return False
    try:
        host, pid_text, _ = holder.split("/")
        my_host, _, _ = me.split("/")
        pid = int(pid_text)
    except ValueError:
        return False
    return host == my_host and not _alive(pid)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True
