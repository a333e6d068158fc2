"""`npm run hub:collect [-- --out reports/class --notebook 01-fashion-mnist-convnet.ipynb --state DIR]`:
every learner's notebook, as it was last saved, exported to offline HTML in one folder, with an
index page. Run as root on the hub's machine; the hub need not be running.

Learners are those in the hub's database and its class list. Each file is the notebook's saved
outputs (nothing is executed), through the same template as `npm run export`. The folder is built
beside the target and renamed when complete, so a teacher never opens a half-written collection.
A learner who never logged in is listed as such; an unreadable notebook is named in one line and
makes the exit code 1, while the others are still collected.
"""
import argparse
import errno
import html
import os
import pwd
import shutil
import sqlite3
import sys
import tempfile

from common import DEFAULT_STATE, ROOT, run_in_venv


def learners(state):
    names = set()
    db = os.path.join(state, "jupyterhub.sqlite")
    if os.path.exists(db):
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            names.update(row[0] for row in conn.execute("SELECT name FROM users"))
    from classlist import read_class_list
    names.update(read_class_list(os.path.join(state, "class-list.txt")))
    return sorted(names)


def read_learner_notebook(name, notebook):
    """The learner's notebook, or None if they have none. Opened without following links, and only
    if the learner owns it: a link to someone else's notebook is not the learner's work."""
    import nbformat
    account = pwd.getpwnam(name)
    path = os.path.join(account.pw_dir, "notebooks", notebook)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return None, path
    except OSError as exc:
        raise ValueError(f"{path}: {'a link, not the learner’s own file' if exc.errno == errno.ELOOP else exc.strerror}")
    with os.fdopen(fd, encoding="utf-8") as f:
        if os.fstat(f.fileno()).st_uid != account.pw_uid:
            raise ValueError(f"{path}: not owned by {name}")
        try:
            return nbformat.read(f, as_version=4), path
        except Exception as exc:
            raise ValueError(f"{path}: not a readable notebook ({str(exc).splitlines()[0][:120]})")


def link(name, target):
    return f'<a href="{html.escape(target)}">{html.escape(name)}</a>' if target else html.escape(name)


def main(argv):
    run_in_venv(__file__, argv)
    parser = argparse.ArgumentParser(prog="npm run hub:collect --")
    parser.add_argument("--state", default=DEFAULT_STATE, help="the hub's state folder (npm run hub's --state)")
    parser.add_argument("--out", default=os.path.join(ROOT, "reports", "class"))
    parser.add_argument("--notebook", default="01-fashion-mnist-convnet.ipynb")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return 2 if exc.code else 0
    if os.sep in args.notebook or not args.notebook.endswith(".ipynb"):
        print(f"error: --notebook must be a notebook file name in the learners' notebooks/ folder, got {args.notebook!r}", file=sys.stderr)
        return 2
    if not os.path.isdir(args.state):
        print(f"error: --state {args.state}: no such folder (the hub's state, default .jupyter/hub)", file=sys.stderr)
        return 2
    sys.path.insert(0, os.path.join(ROOT, "scripts"))
    from export_notebook import write_html

    out = os.path.abspath(args.out)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    staging = tempfile.mkdtemp(dir=os.path.dirname(out), prefix=".collect.")
    rows, errors = [], []
    try:
        for name in learners(args.state):
            try:
                pwd.getpwnam(name)
            except KeyError:
                rows.append((name, None, "no account yet (never logged in)"))
                continue
            try:
                nb, path = read_learner_notebook(name, args.notebook)
            except ValueError as exc:
                errors.append(str(exc))
                rows.append((name, None, "unreadable notebook"))
                continue
            if nb is None:
                rows.append((name, None, "no notebook"))
                continue
            target = f"{name}.html"
            write_html(nb, f"{name} · {os.path.splitext(args.notebook)[0]}", os.path.join(staging, target))
            ran = sum(1 for c in nb.cells if c.cell_type == "code" and c.get("execution_count"))
            total = sum(1 for c in nb.cells if c.cell_type == "code")
            rows.append((name, target, f"{ran} of {total} code cells run"))
        items = "\n".join(
            f"<li>{link(name, target)} — {html.escape(note)}</li>" for name, target, note in rows)
        with open(os.path.join(staging, "index.html"), "w", encoding="utf-8") as f:
            f.write(f"<!doctype html><meta charset=utf-8><title>{html.escape(args.notebook)}</title>"
                    f"<h1>{html.escape(args.notebook)}: {sum(1 for r in rows if r[1])} of {len(rows)} learners</h1><ul>\n{items}\n</ul>\n")
        os.chmod(staging, 0o700)
        # The previous collection is replaced only now that the new one is complete.
        if os.path.exists(out):
            old = tempfile.mkdtemp(dir=os.path.dirname(out), prefix=".collect-old.")
            os.rename(out, os.path.join(old, "x"))
            os.rename(staging, out)
            shutil.rmtree(old)
        else:
            os.rename(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    for error in errors:
        print(f"error: {error}", file=sys.stderr)
    print(f"[hub:collect] {sum(1 for r in rows if r[1])} of {len(rows)} learners' {args.notebook} in {out}/ (index.html)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
