#!/usr/bin/env bash
# consumer_test.sh BUILD_DIR STATE_DIR
# Installs the library from BUILD_DIR into a temporary prefix, builds integration/consumer/
# against it with find_package(mongoslice) and with pkg-config, and runs both against the
# suite's server.
set -euo pipefail
build=${1:?build dir}
state=${2:?state dir}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
uri=$(cat "$state/uri")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cmake --install "$build" --prefix "$work/prefix" >/dev/null
cmake -S "$here/consumer" -B "$work/cmake-build" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
ninja -C "$work/cmake-build" >/dev/null
echo "find_package consumer: $("$work/cmake-build/consumer" "$uri")"

PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig" c++ "$here/consumer/main.cpp" -o "$work/pc-consumer" \
  $(PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig" pkg-config --cflags --libs mongoslice)
echo "pkg-config consumer: $("$work/pc-consumer" "$uri")"
