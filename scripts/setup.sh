#!/usr/bin/env bash
# Installs everything mongoslice needs on a fresh Debian 12 machine. Safe to run again, and quick
# (a few seconds) when everything is already there.
#
#   - Debian packages: compilers, Boost 1.81 (not the default 1.74), libbson, c-ares, GoogleTest,
#     Google Benchmark, libmongoc (the C driver we compare against), clang (libFuzzer), graphviz.
#   - FerretDB v1.24.2 (SQLite backend), the real server the integration suite and the demo use.
#   - A Python venv in .venv/ (ignored by git) with mockupdb and pymongo.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tools=${MONGOSLICE_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/mongoslice}
ferretdb_version=v1.24.2

log() { printf 'setup: %s\n' "$*" >&2; }

# --- Debian packages -------------------------------------------------------------------------
packages=(build-essential cmake ninja-build pkg-config git libboost1.81-dev libbson-dev
  libc-ares-dev libmongoc-dev libgtest-dev libgmock-dev libbenchmark-dev clang clang-format libclang-rt-14-dev
  graphviz docker-compose python3-venv golang-go ccache)
missing=()
for p in "${packages[@]}"; do
  # golang-go is only needed when no Go toolchain is on PATH already.
  if [[ $p == golang-go ]] && command -v go >/dev/null; then continue; fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  log "installing Debian packages: ${missing[*]}"
  sudo=""; [[ $(id -u) == 0 ]] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# --- FerretDB ---------------------------------------------------------------------------------
# The documented `go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.2` does not work
# as is: the module zip lacks the generated build/version/version.txt (the binary panics at
# start), and `go install pkg@version` also asks the proxy for the module's version list, which
# some proxies refuse. So we download that exact module version, add the version file and build
# its cmd/ferretdb ourselves; the result is the same program. The binary is cached outside the
# work tree so that fresh clones (CI) reuse it.
ferretdb=$tools/bin/ferretdb
if ! "$ferretdb" --version 2>/dev/null | grep -q "version: $ferretdb_version"; then
  log "building FerretDB $ferretdb_version (a minute or two the first time)"
  moddir=$(cd /tmp && go mod download -json "github.com/FerretDB/FerretDB@$ferretdb_version" |
    sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')
  [[ -d $moddir ]] || { log "go mod download of FerretDB failed"; exit 1; }
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  cp -r "$moddir/." "$work/"
  chmod -R u+w "$work"
  echo "$ferretdb_version" >"$work/build/version/version.txt"
  mkdir -p "$tools/bin"
  (cd "$work" && go build -o "$ferretdb.tmp" ./cmd/ferretdb)
  mv "$ferretdb.tmp" "$ferretdb"
fi

# --- Python venv (mockupdb scenarios, PyMongo for benchmarks) ---------------------------------
venv=$repo/.venv
python=${MONGOSLICE_PYTHON_BASE:-python3}
if ! "$venv/bin/python" -c 'import mockupdb, pymongo' 2>/dev/null; then
  log "creating $venv with mockupdb and pymongo"
  "$python" -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check mockupdb==1.8.1 pymongo==4.10.1
fi

echo "$ferretdb"
