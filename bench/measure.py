"""What both benchmarks measure and how they run their timed parts: CPU time, peak memory, child processes.

Each timed part runs in a child process of its own (`python <bench> --child <mode> …`), so imports and
earlier parts do not count against it; the child prints its figures as JSON on its last line.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path


def cpu() -> float:
    times = os.times()
    return times.user + times.system


def peak_rss_mb() -> float:
    """Peak resident memory of this process since it started running this program.

    /proc/self/status VmHWM belongs to the process image, so it excludes the parent's memory, which
    Linux carries into a forked child's ru_maxrss; getrusage is the fallback elsewhere.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def run_child(script: str, mode: str, *args: str) -> dict:
    """Run `python script --child mode *args` and return the JSON of its last output line."""
    done = subprocess.run(
        [sys.executable, script, "--child", mode, *args], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"bench: child {mode!r} failed (exit {done.returncode})")
    return json.loads(done.stdout.strip().splitlines()[-1])
