"""Running ``kubeheat`` as its own process in the CLI tests: a process is the only way to
bound a command that holds the GIL, or to send it a signal."""

from __future__ import annotations

import os
import subprocess
import sys


def spawn(*argv: str) -> subprocess.Popen[str]:
    """``kubeheat ARGV...`` in a new interpreter, without the caller's OS_* cloud settings."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env = {k: v for k, v in env.items() if not k.startswith("OS_")}
    return subprocess.Popen([sys.executable, "-m", "kubeheat.cli.main", *argv],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def finish(proc: subprocess.Popen[str], timeout: float = 120) -> tuple[int, str, str]:
    """Its exit code, stdout and stderr; killed if it has not ended within ``timeout``."""
    try:
        out, err = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return proc.returncode, out, err
