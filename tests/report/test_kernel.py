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


def test_the_report_modules_load_no_heavy_module_before_its_section_runs():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from lgs_analysis.report import data, sections\n"
        "from lgs_analysis.report.glue import glue\n"
        "print(sorted(m for m in ('scipy', 'statsmodels', 'mlxtend', 'scrapbook',"
        " 'matplotlib.pyplot') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    # scipy loads when CLV is fitted, statsmodels when a campaign is read out, pyplot never
    assert done.stdout.strip() == "[]"


def test_report_kernels_use_sockets_of_their_own():
    manager = kernel.ipc_kernel_manager()
    first, second = manager(kernel_name="python3"), manager(kernel_name="python3")
    assert first.transport == second.transport == "ipc"  # no TCP port to race for
    assert first.ip != second.ip
