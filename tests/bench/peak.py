"""Time and peak resident memory of a command's whole process tree (sampled every 0.2 s)."""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass

__all__ = ["Measured", "measure_command"]


@dataclass(frozen=True)
class Measured:
    """What a command took: wall seconds, peak RSS of its process tree, exit code."""

    seconds: float
    peak_bytes: int
    returncode: int
    output: str

    @property
    def peak_gb(self) -> float:
        return self.peak_bytes / 1024**3


def measure_command(argv: list[str], env: dict[str, str], cwd: str | None = None) -> Measured:
    """Run ``argv`` and sample the RSS of it and every descendant until it exits."""
    import psutil

    started = time.perf_counter()
    proc = subprocess.Popen(
        argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    root = psutil.Process(proc.pid)
    peak = 0
    chunks: list[str] = []
    import threading

    reader = threading.Thread(target=lambda: chunks.append(proc.stdout.read()), daemon=True)
    reader.start()
    while proc.poll() is None:
        total = 0
        try:
            tree = [root, *root.children(recursive=True)]
        except psutil.Error:
            tree = []
        for p in tree:
            try:
                total += p.memory_info().rss
            except psutil.Error:
                pass
        peak = max(peak, total)
        time.sleep(0.2)
    reader.join()
    return Measured(time.perf_counter() - started, peak, proc.returncode, "".join(chunks))
