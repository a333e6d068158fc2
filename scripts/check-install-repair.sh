#!/usr/bin/env bash
# Checks that `npm install` leaves the project working and repairs it when parts are missing:
#   1. `npm install` again on a working project: still working (the set-up is idempotent);
#   2. `.venv` deleted, `npm install`: working again (the Python environment is rebuilt);
#   3. tfjs-node's `deps/` (TensorFlow C library) and `lib/` (the compiled binding) deleted,
#      `npm install`: the binding is rebuilt (from the cached tensorflow-cpu wheel, or tfjs-node's
#      own download where the wheel build cannot run) and loads;
#   4. the Node.js patch of tfjs-node (patches/) reversed, `npm install`: applied again.
# "Working" means: dist/core loads the native backend ('tensorflow'), the project's Python
# imports jupyterlab and nbclient, and the kernel spec fmnist-ts exists.
#
# It changes the project it runs in (step 2 removes .venv, step 3 the native binding), so run it
# in a clone or on a machine where that is fine; every step puts back what it removed. The wheel
# cache .cache/tensorflow is never touched, so step 3 downloads nothing when the wheel is cached;
# the script checks that every cached file is still there, unchanged. Each step prints its wall time.
#
# Usage: bash scripts/check-install-repair.sh   (from anywhere; it works in the project root)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)
KERNEL_SPEC=.venv/share/jupyter/kernels/fmnist-ts/kernel.json
TFJS_NODE=node_modules/@tensorflow/tfjs-node
NPM_INSTALL=(npm install --no-audit --no-fund)

log() { printf '[check-install-repair] %s\n' "$*"; }
fail() { log "FAILED: $*"; exit 1; }

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# The native backend through the project's own entry point; prints e.g. "backend tensorflow 2.21.0".
backend_line() {
  node -e "const i = require('./dist/core').requireNativeBackend(); console.log('backend ' + i.backend + ' ' + i.libtensorflow)" 2>/dev/null
}

check_working() {
  local what=$1 line
  line=$(backend_line) || fail "$what: dist/core does not load the native backend"
  [[ $line == "backend tensorflow "* ]] || fail "$what: expected 'backend tensorflow', got '$line'"
  .venv/bin/python -c 'import jupyterlab, nbclient' || fail "$what: .venv/bin/python cannot import jupyterlab, nbclient"
  [[ -f $KERNEL_SPEC ]] || fail "$what: the kernel spec $KERNEL_SPEC is missing"
  log "$what: working ($line; jupyterlab and nbclient import; kernel spec present)"
}

# name size mtime of every file in the wheel cache, to show it is untouched.
cache_state() {
  if [[ -d .cache/tensorflow ]]; then
    find .cache/tensorflow -type f -printf '%P %s %T@\n' | sort
  fi
}

[[ -f package.json && -f scripts/setup.mjs ]] || fail "not the project root: $ROOT"
command -v npm >/dev/null || fail "npm not found"
cache_before=$(cache_state)
if [[ -z $cache_before ]]; then
  log "note: .cache/tensorflow is empty; step 3 downloads the tensorflow-cpu wheel if the official library is unreachable"
fi

total=$(now)

log "step 1: npm install on the installed project"
t=$(now)
"${NPM_INSTALL[@]}"
check_working "step 1"
log "step 1 took $(elapsed "$t") s"

log "step 2: delete .venv, npm install"
t=$(now)
rm -rf .venv
"${NPM_INSTALL[@]}"
check_working "step 2"
log "step 2 took $(elapsed "$t") s"

log "step 3: delete $TFJS_NODE/deps and $TFJS_NODE/lib, npm install"
t=$(now)
rm -rf "$TFJS_NODE/deps" "$TFJS_NODE/lib"
if backend_line >/dev/null; then fail "step 3: the binding still loads after deleting deps/ and lib/"; fi
"${NPM_INSTALL[@]}"
[[ -d $TFJS_NODE/lib && -d $TFJS_NODE/deps ]] || fail "step 3: npm install did not rebuild $TFJS_NODE/lib and deps"
check_working "step 3"
log "step 3 took $(elapsed "$t") s (binding source: $(cat "$TFJS_NODE/deps/SOURCE" 2>/dev/null || echo 'official download'))"

log "step 4: reverse patches/ (tfjs-node's util.isNullOrUndefined), npm install"
t=$(now)
node node_modules/patch-package/index.js --reverse >/dev/null
grep -q 'util_1.isNullOrUndefined' "$TFJS_NODE/dist/nodejs_kernel_backend.js" || fail "step 4: the patch was not reversed"
"${NPM_INSTALL[@]}"
if grep -q 'util_1.isNullOrUndefined' "$TFJS_NODE/dist/nodejs_kernel_backend.js"; then fail "step 4: npm install did not apply the patch"; fi
check_working "step 4"
log "step 4 took $(elapsed "$t") s"

changed=$(comm -23 <(printf '%s\n' "$cache_before") <(cache_state) | sed '/^$/d')
[[ -z $changed ]] || fail "files of the wheel cache .cache/tensorflow were removed or changed: $changed"
log "wheel cache .cache/tensorflow kept"
log "all steps passed in $(elapsed "$total") s"
