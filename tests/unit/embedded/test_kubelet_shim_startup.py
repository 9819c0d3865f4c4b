"""The container shim's own start-up, which every container start and every exec pays before the
command runs: no site, no PYTHON* variables, no subprocess (``ctypes.util.find_library`` runs ldconfig)."""

from __future__ import annotations

import subprocess
import sys

from harness.clusters.embedded.kubelet.runtime import SHIM, SHIM_ARGV

LOAD_THE_SHIM_REFUSING_SUBPROCESSES = f"""
import importlib.util, subprocess

def refuse(argv, *args, **kwargs):
    raise SystemExit(f"the shim ran {{argv!r}} while starting")

subprocess.Popen = refuse
spec = importlib.util.spec_from_file_location("container_init", {str(SHIM)!r})
shim = importlib.util.module_from_spec(spec)
spec.loader.exec_module(shim)
for name in ("unshare", "setns", "mount", "umount2", "prctl", "syscall"):
    getattr(shim._libc, name)
"""


def test_the_shim_runs_without_site_or_environment() -> None:
    assert SHIM_ARGV[:3] == (sys.executable, "-I", "-S") and SHIM_ARGV[3] == str(SHIM)


def test_loading_the_shim_spawns_no_process_and_finds_libc() -> None:
    proc = subprocess.run(
        [*SHIM_ARGV[:3], "-c", LOAD_THE_SHIM_REFUSING_SUBPROCESSES],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]


EXEC_WITHOUT_A_READABLE_STDLIB = f"""
import os, sys

# loaded the way the kubelet runs it (importlib.util would import more than the shim does)
path = {str(SHIM)!r}
exec(compile(open(path).read(), path, "exec"), {{"__name__": "container_init"}})
# as after setns + setuid in a container: the interpreter's stdlib is not readable any more
sys.path[:] = []
sys.path_importer_cache.clear()
os.execvpe("true", ["true"], {{"PATH": "/usr/bin:/bin"}})
"""


def test_the_shim_can_exec_a_command_by_name_once_the_stdlib_is_out_of_reach() -> None:
    # os.execvpe imports warnings while it runs; as uid 1000 in the container that import failed
    # ("exec failed: No module named 'warnings'") unless the shim had it already
    proc = subprocess.run(
        [*SHIM_ARGV[:3], "-c", EXEC_WITHOUT_A_READABLE_STDLIB], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
