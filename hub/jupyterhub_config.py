"""JupyterHub for a class on one machine, started by hub/start.py (`npm run hub`).

start.py validates the options and passes them here through FMNIST_HUB_* variables, so this file
holds the policy and start.py the plumbing. Run as root: learners are Unix users.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from classlist import NAME_PATTERN  # noqa: E402
from spawner import prepare_home  # noqa: E402

c = get_config()  # noqa: F821 (provided by JupyterHub)
env = os.environ
ROOT = env["FMNIST_HUB_ROOT"]
VENV_BIN = os.path.join(ROOT, ".venv", "bin")

# Network: the public proxy on the chosen address (127.0.0.1 unless --ip), the hub and the proxy's
# API on loopback ports chosen free by start.py, so two hubs (a class and a load test) can coexist.
c.JupyterHub.bind_url = f"http://{env['FMNIST_HUB_IP']}:{env['FMNIST_HUB_PORT']}"
c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{env['FMNIST_HUB_INTERNAL_PORT']}"
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{env['FMNIST_HUB_PROXY_API_PORT']}"
c.ConfigurableHTTPProxy.command = [env["FMNIST_HUB_PROXY_BIN"]]
# State (database, cookie secret, proxy pid file) lives in start.py's --state folder, the cwd.
c.JupyterHub.db_url = "sqlite:///jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = "jupyterhub_cookie_secret"
# Stopping the hub stops every learner's server and the proxy (start.py checks that it did).
c.JupyterHub.cleanup_servers = True
c.JupyterHub.cleanup_proxy = True

# Who logs in: the class list (hub/classlist.py). Learners become Unix users of the same name,
# created on first login (or when an admin adds them through the REST API), homes 0700.
# For OAuth, replace these lines: see docs/hub.md, "Real accounts".
c.JupyterHub.authenticator_class = "classlist.ClassListAuthenticator"
c.ClassListAuthenticator.class_list = env["FMNIST_HUB_CLASS_LIST"]
c.Authenticator.username_pattern = NAME_PATTERN
# The class list is the allow list: authenticate() accepts no one else.
c.Authenticator.allow_all = True
c.LocalAuthenticator.create_system_users = True
c.LocalAuthenticator.add_user_cmd = ["useradd", "--create-home", "--key", "UMASK=0077", "--shell", "/bin/bash"]
if env.get("FMNIST_HUB_ADMINS"):
    c.Authenticator.admin_users = set(env["FMNIST_HUB_ADMINS"].split(","))

# Each learner's server: JupyterLab from the project's .venv (where the fmnist-ts kernel spec is),
# as the learner, in their home, inside their memory cgroup.
c.JupyterHub.spawner_class = "spawner.ClassroomSpawner"
c.ClassroomSpawner.cgroup_parent = env.get("FMNIST_HUB_CGROUP", "")
c.ClassroomSpawner.memory_limit_bytes = int(env["FMNIST_HUB_MEMORY_BYTES"])
c.Spawner.cmd = [os.path.join(VENV_BIN, "jupyterhub-singleuser")]
c.Spawner.args = [
    "--LabApp.news_url=None",
    "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
]
c.Spawner.notebook_dir = "~"
c.Spawner.default_url = "/lab/tree/notebooks/01-fashion-mnist-convnet.ipynb"
# A learner's own config files could undo the limits below.
c.Spawner.disable_user_config = True
# A loaded machine (a class starting together) takes longer than the 60 s default to answer.
c.Spawner.start_timeout = 180
c.Spawner.http_timeout = 180
# A server stopping shuts its kernels down first (ClassroomSpawner.stop); on a busy machine that
# takes longer than the 5 s default before SIGKILL.
c.LocalProcessSpawner.term_timeout = 20
# Shown in JupyterHub's admin page and used by kubespawner-style tools; enforced by the cgroup.
c.Spawner.mem_limit = int(env["FMNIST_HUB_MEMORY_BYTES"]) or None

threads = env["FMNIST_HUB_THREADS"]
c.Spawner.environment = {
    # TensorFlow's pools: without these each kernel starts one thread per core for each pool, and
    # two trainings on two cores spend their time switching. The kernel inherits the server's env.
    "TF_NUM_INTRAOP_THREADS": threads,
    "TF_NUM_INTEROP_THREADS": threads,
    # The shared, read-only data: no learner downloads or writes a copy.
    "FASHION_MNIST_DIR": env["FMNIST_HUB_DATA_DIR"],
    # Notebook 02 keeps trained models; each learner keeps theirs in their home.
    "FMNIST_MODELS_DIR": lambda spawner: os.path.join(os.path.expanduser(f"~{spawner.user.name}"), "models"),
    "PATH": f"{VENV_BIN}:{os.path.dirname(env['FMNIST_HUB_NODE'])}:/usr/local/bin:/usr/bin:/bin",
}
c.Spawner.pre_spawn_hook = lambda spawner: prepare_home(
    spawner, os.path.join(ROOT, "notebooks"), os.path.join(ROOT, "node_modules")
)

# Services: the idle culler stops a server nobody used for --cull-idle seconds (its kernels with
# it); fmnist-admin is the token that the load test and the teacher's tools use.
cull = int(env["FMNIST_HUB_CULL_IDLE"])
services, roles = [], []
if cull > 0:
    services.append({
        "name": "idle-culler",
        "command": [sys.executable, "-m", "jupyterhub_idle_culler", f"--timeout={cull}", f"--cull-every={max(30, cull // 4)}"],
    })
    roles.append({
        "name": "idle-culler",
        "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
        "services": ["idle-culler"],
    })
services.append({"name": "fmnist-admin", "api_token": env["FMNIST_HUB_ADMIN_TOKEN"]})
roles.append({"name": "admin", "services": ["fmnist-admin"]})
c.JupyterHub.services = services
c.JupyterHub.load_roles = roles
