"""What the hub's scripts share: the project's paths, running from .venv, free ports, private files."""
import os
import socket
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
VENV = os.path.join(ROOT, ".venv")
VENV_PYTHON = os.path.join(VENV, "bin", "python")
DEFAULT_STATE = os.path.join(ROOT, ".jupyter", "hub")


def run_in_venv(script: str, argv) -> None:
    """npm runs the hub's scripts with the system Python; they run from .venv, where JupyterHub is."""
    if os.path.realpath(sys.prefix) == os.path.realpath(VENV):
        return
    if not os.path.exists(VENV_PYTHON):
        print("error: the Python environment .venv is missing; run npm install first", file=sys.stderr)
        sys.exit(1)
    os.execv(VENV_PYTHON, [VENV_PYTHON, os.path.abspath(script), *argv])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_private(path: str, text: str) -> None:
    """Writes a 0600 file atomically: readers see the old file or the whole new one."""
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)), prefix=".tmp.")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        os.remove(tmp)
        raise
