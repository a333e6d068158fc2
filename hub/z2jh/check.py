"""Checks hub/z2jh/config.yaml: `python3 hub/z2jh/check.py [--chart DIR] [config.yaml]`.

Always: the file is YAML, uses the project's image, keeps the learners' limits consistent with each
other and with the TensorFlow thread settings, and has no value left unset except the OAuth
placeholders. With --chart (a chart folder from `helm pull jupyterhub/jupyterhub --untar`, holding
values.yaml and values.schema.json or .yaml): the chart's defaults merged with this file, as Helm
merges them, are validated against the chart's values schema. Exit 0 valid, 1 invalid, 2 bad input.
"""
import argparse
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from common import run_in_venv  # noqa: E402

IMAGE = ("fmnist-ts", "latest")
SIZE = re.compile(r"^(\d+(?:\.\d+)?)([KMGT]i?)?$")


def size_bytes(value):
    m = SIZE.match(str(value))
    if not m:
        raise ValueError(f"not a memory size: {value!r}")
    unit = m.group(2) or ""
    power = {"": 0, "K": 1, "M": 2, "G": 3, "T": 4}[unit[:1]]
    return float(m.group(1)) * (1024 if unit.endswith("i") else 1000) ** power


def merge(base, override):
    """Helm's merge of user values over chart defaults: maps merge, anything else is replaced."""
    if isinstance(base, dict) and isinstance(override, dict):
        out = dict(base)
        for key, value in override.items():
            out[key] = merge(base.get(key), value) if key in base else value
        return out
    return override


def own_checks(values):
    problems = []
    single = values.get("singleuser", {})
    image = single.get("image", {})
    if (image.get("name"), str(image.get("tag"))) != IMAGE:
        problems.append(f"singleuser.image must be {IMAGE[0]}:{IMAGE[1]}, got {image.get('name')}:{image.get('tag')}")
    try:
        mem = single["memory"]
        if size_bytes(mem["guarantee"]) > size_bytes(mem["limit"]):
            problems.append("singleuser.memory.guarantee is above its limit")
        cpu = single["cpu"]
        if float(cpu["guarantee"]) > float(cpu["limit"]):
            problems.append("singleuser.cpu.guarantee is above its limit")
        env = single["extraEnv"]
        threads = int(env["TF_NUM_INTRAOP_THREADS"]) + int(env["TF_NUM_INTEROP_THREADS"]) - 1
        if threads > max(1, 2 * float(cpu["limit"])):
            problems.append(f"TensorFlow's thread pools ({env['TF_NUM_INTRAOP_THREADS']}+{env['TF_NUM_INTEROP_THREADS']}) are far above the CPU limit {cpu['limit']}")
    except (KeyError, TypeError, ValueError) as exc:
        problems.append(f"singleuser.memory/cpu/extraEnv incomplete or malformed ({exc})")
    if not values.get("cull", {}).get("enabled"):
        problems.append("cull.enabled must be true: idle learners' servers hold their memory guarantee")
    return problems


def main(argv):
    run_in_venv(__file__, argv)
    import yaml
    parser = argparse.ArgumentParser(prog="hub/z2jh/check.py")
    parser.add_argument("config", nargs="?", default=os.path.join(HERE, "config.yaml"))
    parser.add_argument("--chart", help="an unpacked jupyterhub chart folder (values.yaml, values.schema.json)")
    args = parser.parse_args(argv)
    try:
        with open(args.config, encoding="utf-8") as f:
            values = yaml.safe_load(f)
    except (OSError, yaml.YAMLError) as exc:
        print(f"error: {args.config}: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 2
    if not isinstance(values, dict):
        print(f"error: {args.config}: not a mapping of Helm values", file=sys.stderr)
        return 2
    problems = own_checks(values)
    checked = "YAML and the project's own rules"
    if args.chart:
        import jsonschema
        schema_file = next((os.path.join(args.chart, n) for n in ("values.schema.json", "values.schema.yaml")
                            if os.path.exists(os.path.join(args.chart, n))), None)
        defaults_file = os.path.join(args.chart, "values.yaml")
        if not schema_file or not os.path.exists(defaults_file):
            print(f"error: --chart {args.chart}: no values.yaml and values.schema.json/.yaml there", file=sys.stderr)
            return 2
        with open(schema_file, encoding="utf-8") as f:
            schema = yaml.safe_load(f)  # JSON is YAML
        with open(defaults_file, encoding="utf-8") as f:
            merged = merge(yaml.safe_load(f), values)
        validator = jsonschema.Draft7Validator(schema)
        for error in sorted(validator.iter_errors(merged), key=lambda e: list(e.path)):
            problems.append(f"schema: {'.'.join(str(p) for p in error.path) or '(top)'}: {error.message[:200]}")
        checked += f" and the chart's values schema ({schema_file})"
    for problem in problems:
        print(f"error: {args.config}: {problem}", file=sys.stderr)
    if problems:
        return 1
    print(f"[z2jh] {args.config}: valid ({checked})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
