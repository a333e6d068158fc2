"""Stop a Python child of a project command when that command is gone.

The commands (`npm run export`, `npm start`) start their Python child in a process group of its
own, so that a Ctrl-C or a closed terminal reaches the child only through the command, as one
SIGTERM (src/cli/common.ts). If the command itself is killed outright, nobody would tell the child;
this watch notices that its parent changed and sends the process SIGTERM, the same clean stop
(kernels shut down, runtime files removed).

Used two ways: imported (`watch_parent()`) by scripts/export_notebook.py, and as a launcher,
`python scripts/parent_watch.py -m MODULE ARGS…`, which runs MODULE as `python -m` would.
"""
import os
import runpy
import signal
import sys
import threading
import time

POLL_SECONDS = 0.5


def watch_parent():
    parent = os.getppid()

    def watch():
        while os.getppid() == parent:
            time.sleep(POLL_SECONDS)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] != "-m":
        print("usage: python scripts/parent_watch.py -m MODULE [ARGS …]", file=sys.stderr)
        sys.exit(2)
    watch_parent()
    module = sys.argv[2]
    sys.argv = [module, *sys.argv[3:]]
    runpy.run_module(module, run_name="__main__", alter_sys=True)
