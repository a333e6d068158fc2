"""Each learner's server: their own Unix account and home, their own copy of the notebooks, and a
memory cgroup around the server and its kernels.

Why a memory cgroup: it is the limit that measures the right thing. RLIMIT_AS (prlimit, ulimit -v)
counts address space, and a tfjs-node process reserves about 2 GB of it (threads' stacks, V8's
heap reservation) while 0.4 GB is resident, so such a limit has to sit far above the real need and
moves with thread counts, not use; RLIMIT_RSS is ignored by Linux. A cgroup v1 `memory.limit_in_bytes` (or
v2 `memory.max`) counts what the learner's processes really use, and when they exceed it the
kernel's OOM killer stops the largest one, the notebook kernel, while the learner's server lives
on and JupyterLab reports "kernel died". Checked on this machine's sandboxed kernel: a process
put in a 200 MB cgroup is SIGKILLed at 200 MB.

The cgroup also makes cleanup exact: every process the learner's server starts stays in it, so
after the server stops, whatever is left (a kernel orphaned by a crashed server) is killed by
reading the cgroup's process list, never by matching process names.
"""
import os
import pwd
import shutil
import signal
import tempfile
import time

from jupyterhub.spawner import LocalProcessSpawner
from traitlets import Integer, Unicode

from classlist import check_learner_name


def cgroup_procs(path: str) -> list:
    try:
        with open(os.path.join(path, "cgroup.procs")) as f:
            return [int(x) for x in f.read().split()]
    except (FileNotFoundError, ProcessLookupError):
        return []


def kill_cgroup(path: str, wait_s: float = 5.0) -> list:
    """SIGKILLs every process in the cgroup, waits for it to empty, removes it; returns the pids killed."""
    killed = cgroup_procs(path)
    for pid in killed:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + wait_s
    while cgroup_procs(path) and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        os.rmdir(path)
    except (FileNotFoundError, OSError):
        pass
    return killed


def limit_file(cgroup_root: str) -> str:
    """The memory limit's file name: cgroup v1 or v2."""
    return "memory.max" if os.path.exists(os.path.join(cgroup_root, "cgroup.controllers")) else "memory.limit_in_bytes"


class ClassroomSpawner(LocalProcessSpawner):
    """LocalProcessSpawner that starts each learner's server inside a memory cgroup of their own."""

    cgroup_parent = Unicode("", help="this hub's memory cgroup folder; empty: no memory limit").tag(config=True)
    memory_limit_bytes = Integer(0, help="per-learner memory limit (server and kernels together)").tag(config=True)

    @property
    def cgroup(self) -> str:
        return os.path.join(self.cgroup_parent, self.user.name) if self.cgroup_parent else ""

    def make_preexec_fn(self, name):
        drop_privileges = super().make_preexec_fn(name)
        cgroup = self.cgroup

        def preexec():
            # Runs in the forked child, still as root: join the learner's cgroup, then become them.
            if cgroup:
                with open(os.path.join(cgroup, "cgroup.procs"), "w") as f:
                    f.write(str(os.getpid()))
            drop_privileges()

        return preexec

    async def start(self):
        if self.cgroup:
            # A cgroup left by a server that died with the hub is emptied first.
            kill_cgroup(self.cgroup)
            os.makedirs(self.cgroup)
            if self.memory_limit_bytes:
                with open(os.path.join(self.cgroup, limit_file(self.cgroup_parent)), "w") as f:
                    f.write(str(self.memory_limit_bytes))
        return await super().start()

    async def stop(self, now=False):
        # LocalProcessSpawner interrupts first (SIGINT); jupyter-server, with no terminal to confirm
        # on, then exits without shutting its kernels down. SIGTERM makes it shut them down first
        # (seen here: the kernel is gone within a second), so the SIGINT step is skipped.
        try:
            await super().stop(now=True)
        finally:
            if self.cgroup:
                left = kill_cgroup(self.cgroup)
                if left:
                    self.log.warning("killed %d process(es) left in %s's cgroup: %s", len(left), self.user.name, left)


def prepare_home(spawner, notebooks_dir: str, node_modules: str) -> None:
    """The pre-spawn hook: a 0700 home, the learner's own copy of the notebooks on first login, and
    a link to the project's node_modules (shared, read-only) so that `import "fmnist"` resolves.

    The copy is made in a temporary folder inside the home and renamed, so an interrupted first
    login leaves no half-copied notebooks; later logins never overwrite the learner's work.
    """
    name = spawner.user.name
    check_learner_name(name)
    account = pwd.getpwnam(name)
    home = account.pw_dir
    os.makedirs(home, exist_ok=True)
    os.chown(home, account.pw_uid, account.pw_gid)
    os.chmod(home, 0o700)
    target = os.path.join(home, "notebooks")
    if not os.path.exists(target):
        staging = tempfile.mkdtemp(dir=home, prefix=".notebooks.")
        try:
            for entry in sorted(os.listdir(notebooks_dir)):
                if entry.endswith(".ipynb"):
                    shutil.copyfile(os.path.join(notebooks_dir, entry), os.path.join(staging, entry))
            for root, dirs, files in os.walk(staging):
                for item in [root] + [os.path.join(root, f) for f in files]:
                    os.chown(item, account.pw_uid, account.pw_gid)
            os.chmod(staging, 0o755)
            os.rename(staging, target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    link = os.path.join(home, "node_modules")
    if not os.path.islink(link) or os.readlink(link) != node_modules:
        if os.path.islink(link):
            os.remove(link)
        if not os.path.exists(link):
            os.symlink(node_modules, link)
            os.lchown(link, account.pw_uid, account.pw_gid)
