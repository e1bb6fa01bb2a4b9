"""The server's CLI under cProfile, switched on and off by signals (for profile_server.py).

``python bench/_cprofile_server.py STATS_FILE [server options]``: SIGUSR1 starts profiling the
event loop's thread, SIGUSR2 stops it and writes the stats to STATS_FILE, so only the measured
window is profiled (not start-up or warm-up calls). Times are the thread's CPU time, not wall
time: on a shared machine, waiting in epoll or being preempted would otherwise be charged to
whatever function happened to run.
"""

from __future__ import annotations

import cProfile
import signal
import sys
import time
from types import FrameType

from gemini_interactions_mcp.cli import main

profiler = cProfile.Profile(time.thread_time)


def _start(_signum: int, _frame: FrameType | None) -> None:
    profiler.enable()


def _stop(_signum: int, _frame: FrameType | None) -> None:
    profiler.disable()
    profiler.dump_stats(sys.argv[1])


signal.signal(signal.SIGUSR1, _start)
signal.signal(signal.SIGUSR2, _stop)
main(sys.argv[2:])
