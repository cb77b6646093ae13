#!/usr/bin/env bash
# Installs everything mongoslice needs on a fresh Debian 12 machine. Safe to run again, and quick
# (a few seconds) when everything is already there.
#
#   - Debian packages: compilers, Boost 1.81 (not the default 1.74), libbson, c-ares, OpenSSL 3
#     (libssl-dev: TLS and SCRAM's crypto), libidn 1.x (SASLprep), GoogleTest,
#     Google Benchmark, libmongoc (the C driver we compare against), clang (libFuzzer), graphviz,
#     valgrind (callgrind: instructions per document in bench/driverbench/).
#   - FerretDB v1.24.2 (SQLite backend), the real server the integration suite and the demo use.
#   - mongo-java-server 1.47.0 (in-memory backend), the second real server: its launcher
#     (integration/java-server/) built with Maven from Maven Central.
#   - A Python venv in .venv/ (ignored by git) with mockupdb and pymongo, and zstandard and
#     cramjam (snappy) for the compressing mock server (an implementation independent of ours).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tools=${MONGOSLICE_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/mongoslice}
ferretdb_version=v1.24.2

log() { printf 'setup: %s\n' "$*" >&2; }

# --- Debian packages -------------------------------------------------------------------------
packages=(build-essential cmake ninja-build pkg-config git libboost1.81-dev libbson-dev
  libc-ares-dev libssl-dev libidn-dev libzstd-dev libsnappy-dev zlib1g-dev libmongoc-dev libgtest-dev libgmock-dev libbenchmark-dev clang clang-format libclang-rt-14-dev
  graphviz docker-compose python3-venv golang-go ccache openjdk-17-jdk-headless maven valgrind)
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

# --- mongo-java-server -----------------------------------------------------------------------
# The launcher and its runtime classpath (mongo-java-server, netty, slf4j) go to
# $tools/java-server/build (mongoslice-java-server.jar and lib/*.jar), Maven's downloads to
# $tools/m2, both outside the work tree. A stamp of the launcher's sources skips Maven entirely
# when nothing changed.
java_src=$repo/integration/java-server
java_build=$tools/java-server/build
java_stamp=$(cd "$java_src" && find pom.xml src -type f | sort | xargs sha256sum | sha256sum | cut -d' ' -f1)
if [[ ! -f $java_build/mongoslice-java-server.jar || $(cat "$tools/java-server/stamp" 2>/dev/null) != "$java_stamp" ]]; then
  log "building the mongo-java-server launcher with Maven (under a minute the first time)"
  rm -rf "$java_build"
  # Maven's output is shown only when it fails (even -q prints terminal escapes).
  if ! mvn_out=$(mvn -B -q -f "$java_src/pom.xml" -Dmaven.repo.local="$tools/m2" \
    -Djavaserver.build.dir="$java_build" package 2>&1); then
    printf '%s\n' "$mvn_out" >&2
    log "Maven build of $java_src failed"
    exit 1
  fi
  echo "$java_stamp" >"$tools/java-server/stamp"
fi

# --- Python venv (mockupdb scenarios, PyMongo for benchmarks) ---------------------------------
venv=$repo/.venv
python=${MONGOSLICE_PYTHON_BASE:-python3}
if ! "$venv/bin/python" -c 'import mockupdb, pymongo, zstandard, cramjam' 2>/dev/null; then
  log "creating $venv with mockupdb, pymongo, zstandard and cramjam"
  [[ -x $venv/bin/python ]] || "$python" -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check mockupdb==1.8.1 pymongo==4.10.1 \
    zstandard==0.25.0 cramjam==2.14.0
fi

echo "$ferretdb"
