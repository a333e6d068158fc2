"""The class list: one learner per line, `name:scrypt$<salt>$<hash>`, passwords hashed (never kept).

Used two ways: by the hub (ClassListAuthenticator, loaded by hub/jupyterhub_config.py) and by
`npm run hub -- add-learner NAME` (hub/start.py), which writes a line. The file is read again on
every login, so a teacher adds or removes a learner without restarting the hub.

Why a file and not JupyterHub's NativeAuthenticator or a shared workshop password: a teacher knows
the class in advance and hands out passwords; nothing else needs installing, and one learner's
password opens one account. A shared password (DummyAuthenticator) is simpler for a one-day
workshop but lets anyone who knows it log in as anyone. For a school's accounts, OAuth
(oauthenticator) replaces this class: see docs/hub.md.
"""
import base64
import hashlib
import hmac
import os
import pwd
import re
import secrets
import tempfile

from jupyterhub.auth import LocalAuthenticator
from traitlets import Unicode

# Unix user names the hub may create; learners become Unix users of the same name.
NAME_PATTERN = r"^[a-z][a-z0-9_-]{0,31}$"
# Accounts below this uid belong to the system (root, daemons): a class-list name that matches one
# must never spawn a server as that account.
FIRST_LEARNER_UID = 1000
# scrypt's cost: about 50 ms a login on this machine's CPUs, 16 MiB of memory.
SCRYPT = dict(n=2**14, r=8, p=1)


class ClassListError(Exception):
    """A bad class-list file or entry; the message names the file and line."""


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **SCRYPT)
    return "scrypt$" + base64.b64encode(salt).decode() + "$" + base64.b64encode(digest).decode()


def check_password(password: str, stored: str) -> bool:
    try:
        scheme, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        got = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), dklen=len(expected), **SCRYPT)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


def read_class_list(path: str) -> dict:
    """name → stored hash. A missing file is an empty class; a malformed line is an error."""
    entries = {}
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        return entries
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, stored = line.partition(":")
        if not sep or not re.match(NAME_PATTERN, name) or not stored.startswith("scrypt$"):
            raise ClassListError(f"{path}:{number}: expected 'name:scrypt$…' with a name matching {NAME_PATTERN}")
        entries[name] = stored
    return entries


def check_learner_name(name: str) -> None:
    """Refuses names that are not valid learner names or that belong to a system account."""
    if not re.match(NAME_PATTERN, name):
        raise ClassListError(f"learner name {name!r} must match {NAME_PATTERN}")
    try:
        uid = pwd.getpwnam(name).pw_uid
    except KeyError:
        return
    if uid < FIRST_LEARNER_UID:
        raise ClassListError(f"learner name {name!r} is a system account (uid {uid}); choose another name")


def add_learner(path: str, name: str, password: str) -> None:
    """Adds or replaces one learner; the file is rewritten atomically with mode 0600."""
    check_learner_name(name)
    if len(password) < 8:
        raise ClassListError(f"the password for {name} must have at least 8 characters")
    entries = read_class_list(path)
    entries[name] = hash_password(password)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".class-list.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write("# learner:hashed password — written by `npm run hub -- add-learner NAME`\n")
            for learner, stored in sorted(entries.items()):
                f.write(f"{learner}:{stored}\n")
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


class ClassListAuthenticator(LocalAuthenticator):
    """Logs in the learners of the class-list file; creates their Unix accounts on first login."""

    class_list = Unicode(help="the class-list file (name:hashed password per line)").tag(config=True)

    async def authenticate(self, handler, data):
        name = self.normalize_username(data.get("username", ""))
        try:
            stored = read_class_list(self.class_list).get(name)
            check_learner_name(name)
        except ClassListError as exc:
            self.log.warning("login refused: %s", exc)
            return None
        if stored and check_password(data.get("password", ""), stored):
            return name
        return None
