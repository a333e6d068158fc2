"""Execute one notebook headless with the project's tslab kernel and write self-contained HTML.

Called by `npm run export` (src/cli/export.ts), which validates the hyperparameter overrides and
passes them to the kernel through the environment. Exit codes: 0 written, 1 a cell failed or the
kernel could not start, 2 bad arguments, 130 interrupted. The HTML is written to a temporary file
and renamed, so an interrupted or failed run never leaves a half-written report.
"""
import argparse
import asyncio
import atexit
import os
import re
import signal
import sys
import time
import traceback

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from nbconvert import HTMLExporter
from parent_watch import watch_parent

HERE = os.path.dirname(os.path.abspath(__file__))


DEBUG = os.environ.get("FMNIST_DEBUG") == "1"
STACK_LINE = re.compile(r"^\s+at \S")


def clear_message(stderr):
    """The one line that says what went wrong, out of what a failing cell wrote on stderr.

    tslab reports a JavaScript error as the error's name and message followed by its stack
    (`    at …` lines), sometimes after Node's own preamble for an uncaught error (the file and line,
    the source line, a caret); it sends no error output of its own and leaves ename and evalue of
    its error reply empty. The clear line is the last one before the final stack. Without a stack
    (a TypeScript compile error) the text is kept as it is, since each of its lines is a message.
    """
    lines = [line for line in stderr.rstrip().splitlines()]
    end = len(lines)
    while end > 0 and (STACK_LINE.match(lines[end - 1]) or not lines[end - 1].strip()):
        end -= 1
    if end == len(lines):
        return stderr.strip()
    return lines[end - 1].strip() if end > 0 else stderr.strip()


def failing_cell(nb, failed_index):
    """The cell that failed and the text it wrote about it (its stderr, and any error output)."""
    candidates = [failed_index] if failed_index is not None else range(len(nb.cells))
    for index in candidates:
        cell = nb.cells[index]
        if cell.cell_type != "code":
            continue
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if not errors and failed_index is None:
            continue
        stderr = "".join(
            o.get("text", "") for o in cell.outputs
            if o.get("output_type") == "stream" and o.get("name") == "stderr"
        )
        err = errors[0] if errors else {}
        named = f"{err.get('ename', '')}: {err.get('evalue', '')}".strip(": ")
        return index, cell, stderr, named
    return None


class Interrupted(Exception):
    """Raised instead of running the next cell once a signal asked the export to stop."""


class ExportClient(NotebookClient):
    """NotebookClient that stops cleanly on SIGINT/SIGTERM.

    nbclient installs its own loop signal handlers that shut the kernel down but leave the run to
    fail later with a DeadKernelError and then an AssertionError from a second cleanup. Here the
    handlers are replaced (after nbclient's, once the loop runs) by ones that note the signal and
    kill the kernel at once; the cleanup may then run twice without failing, and no further cell
    starts. main() turns the noted signal into "interrupted", exit code 130.
    """

    signal_received = None
    _cleanup_lock = None

    def _on_signal(self, signum):
        first = self.signal_received is None
        self.signal_received = signum
        if first:
            self.shutdown_kernel = "immediate"
            atexit.unregister(self._cleanup_kernel)
            asyncio.ensure_future(self._async_cleanup_kernel())

    async def async_start_new_kernel(self, **kwargs):
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            try:
                loop.add_signal_handler(signum, self._on_signal, signum)
            except (RuntimeError, NotImplementedError):
                pass
        await super().async_start_new_kernel(**kwargs)

    async def _async_cleanup_kernel(self):
        if self._cleanup_lock is None:
            self._cleanup_lock = asyncio.Lock()
        async with self._cleanup_lock:
            if self.km is None:
                return
            await super()._async_cleanup_kernel()

    async def async_execute_cell(self, *args, **kwargs):
        if self.signal_received is not None:
            raise Interrupted()
        return await super().async_execute_cell(*args, **kwargs)


def write_html(nb, name, output):
    """The notebook as self-contained offline HTML (the project's template), written to a temporary
    file and renamed. Also used by the hub's teacher collection (hub/collect.py)."""
    exporter = HTMLExporter(template_name="lab", extra_template_paths=[os.path.join(HERE, "nbconvert")])
    exporter.template_file = "offline.html.j2"
    tmp = f"{output}.{os.getpid()}.tmp"
    try:
        body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": name}})
        os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(body)
        os.replace(tmp, output)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("notebook")
    parser.add_argument("output")
    parser.add_argument("--kernel", default="fmnist-ts")
    parser.add_argument("--cell-timeout", type=int, default=3600)
    args = parser.parse_args()

    try:
        nb = nbformat.read(args.notebook, as_version=4)
    except Exception as exc:
        # npm run export checks the notebook first; this covers one changed since, or a direct call.
        print(f"error: {args.notebook}: not a readable notebook ({str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__})", file=sys.stderr)
        return 1
    failed = []
    workdir = os.path.dirname(os.path.abspath(args.notebook))
    client = ExportClient(
        nb,
        kernel_name=args.kernel,
        timeout=args.cell_timeout,
        startup_timeout=120,
        resources={"metadata": {"path": workdir}},
        record_timing=True,
        on_cell_error=lambda cell, cell_index, execute_reply: failed.append(cell_index),
    )

    # A SIGTERM from the parent (or a SIGHUP) is handled like Ctrl-C, so the kernel is shut down either way.
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    watch_parent()
    started = time.time()
    try:
        try:
            client.execute()
        except Exception:
            # After a signal, whatever the stopped kernel made fail (a dead kernel, closed
            # channels) is the interruption itself.
            if client.signal_received is not None:
                raise Interrupted() from None
            raise
    except (KeyboardInterrupt, Interrupted):
        print("export: interrupted; kernel stopped, nothing written", file=sys.stderr)
        return 130
    except (CellExecutionError, CellTimeoutError) as exc:
        found = failing_cell(nb, failed[0] if failed else None)
        if found:
            index, cell, stderr, named = found
            message = clear_message(stderr) or named or str(exc).strip().splitlines()[-1]
            if isinstance(exc, CellTimeoutError):
                message = f"took longer than {args.cell_timeout} s (--cell-timeout)"
            print(f"error: {args.notebook}: cell {index + 1} failed: {message}", file=sys.stderr)
            if DEBUG and stderr.strip():
                print(stderr.rstrip(), file=sys.stderr)
        else:
            print(f"error: {args.notebook}: {str(exc).strip().splitlines()[-1]}", file=sys.stderr)
        if DEBUG:
            traceback.print_exc()
        return 1
    except DeadKernelError as exc:
        print(f"error: {args.notebook}: the kernel died ({exc})", file=sys.stderr)
        return 1
    except RuntimeError as exc:
        print(f"error: {args.notebook}: {exc}", file=sys.stderr)
        return 1

    if client.signal_received is not None:
        # The signal came as the last cell finished: stopping still means no report.
        print("export: interrupted; kernel stopped, nothing written", file=sys.stderr)
        return 130

    try:
        write_html(nb, os.path.splitext(os.path.basename(args.notebook))[0], args.output)
    except KeyboardInterrupt:
        print("export: interrupted; nothing written", file=sys.stderr)
        return 130
    except OSError as exc:
        print(f"error: {args.output}: cannot write the report ({exc.strerror or exc}); nothing written", file=sys.stderr)
        if DEBUG:
            traceback.print_exc()
        return 1
    print(f"export: wrote {args.output} ({os.path.getsize(args.output) / 1e6:.1f} MB) in {time.time() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
