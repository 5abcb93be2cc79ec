"""The report kernel's fast exit acts only inside a Jupyter kernel."""

import atexit
import os

from lgs_analysis.report import kernel


def test_end_without_teardown_does_nothing_outside_a_kernel(monkeypatch):
    registered = []
    monkeypatch.setattr(atexit, "register", lambda *args: registered.append(args))
    kernel.end_without_teardown()
    assert registered == []  # pytest must still exit with its own status


def test_end_without_teardown_registers_the_exit_inside_a_kernel(monkeypatch):
    registered = []
    monkeypatch.setattr(atexit, "register", lambda *args: registered.append(args))
    monkeypatch.setattr(kernel, "_in_kernel", lambda: True)
    kernel.end_without_teardown()
    assert registered == [(os._exit, 0)]
