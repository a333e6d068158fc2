#!/usr/bin/env bash
# Provisions a Debian or Ubuntu machine for the project, the way the README tells a newcomer to:
# the system packages the README lists, then `npm install` in a checkout. Two users share it, so
# that what the container image holds is exactly what the fresh-machine test proves works:
#   - scripts/fresh-root-test.sh, inside a brand-new Debian root (debootstrap + chroot);
#   - the Dockerfile, in the image's build.
# Node.js and npm must already be on PATH (the official build, a distribution's package or the
# container's base image); this script does not pick a Node version.
#
# Usage:
#   scripts/provision.sh system           # as root: apt-get the README's system packages
#   scripts/provision.sh project [DIR]    # as the user who owns DIR (default: this checkout):
#                                         #   npm install, then a check that the backend loads
set -euo pipefail

# The README's apt-get line, word for word: keep the two in step. libatomic1: the official
# Node.js 26 build links it, and a minimal Debian lacks it (g++ brings it too, but Node.js may be
# installed first).
SYSTEM_PACKAGES=(ca-certificates git python3-venv g++ make libatomic1 dataset-fashion-mnist)

log() { printf '[provision] %s\n' "$*"; }
die() { printf '[provision] error: %s\n' "$*" >&2; exit 1; }

system() {
  [[ $(id -u) == 0 ]] || die "'system' installs Debian packages and must run as root"
  command -v apt-get >/dev/null || die "apt-get not found: this script provisions Debian or Ubuntu"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${SYSTEM_PACKAGES[@]}"
  log "system packages installed: ${SYSTEM_PACKAGES[*]}"
}

project() {
  local dir=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
  [[ -f $dir/package.json ]] || die "$dir: not the project (no package.json)"
  command -v node >/dev/null || die "node not found on PATH: install Node.js 22, 24 or 26 first"
  command -v npm >/dev/null || die "npm not found on PATH: it comes with Node.js"
  cd "$dir"
  log "node $(node --version), npm $(npm --version), in $dir"
  npm install
  node -e "const core = require('./dist/core'); console.log('[provision] ' + core.describeBackend(core.requireNativeBackend()))"
}

case ${1:-} in
  system) system ;;
  project) shift; project "$@" ;;
  *) die "usage: scripts/provision.sh system | project [DIR]" ;;
esac
