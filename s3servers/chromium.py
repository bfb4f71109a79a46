"""The headless Chromium that the browser tests and ``bench/`` drive: Debian's binary and
the flags both launch it with (no sandbox as root, no background traffic off 127.0.0.1),
and the Linux ``/proc`` readings both take of its processes (CPU time, which process is
which)."""

from __future__ import annotations

import collections
import os
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def chromium_processes() -> dict[int, str]:
    """Every Chromium process this process started (through Playwright's driver), with
    its kind (``browser``, ``renderer``, ``utility network.mojom.NetworkService``...)."""
    children: dict[int, list[int]] = collections.defaultdict(list)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children[ppid].append(int(entry.name))
    found: dict[int, str] = {}
    todo = [os.getpid()]
    while todo:
        pid = todo.pop()
        for child in children.get(pid, []):
            todo.append(child)
            try:
                # Chromium rewrites its children's titles into one string: split on spaces.
                words = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").split()
            except OSError:
                continue
            if words and b"chromium" in words[0]:
                kind = next((w for w in words if w.startswith(b"--type=")), b"--type=browser")
                sub = next((w for w in words if w.startswith(b"--utility-sub-type=")), b"=")
                found[child] = f"{kind.decode()[7:]} {sub.decode().split('=')[1]}".strip()
    return found
