#!/usr/bin/env bash
# Fails when a layer includes a header from a layer it may not use (DESIGN.md, "Layout").
set -u
repo=${1:-$(cd "$(dirname "$0")/.." && pwd)}
declare -A forbidden=(
  [wire]='ops|auth|monitor|cursor|net|driver'
  [ops]='auth|monitor|cursor|net|driver'
  [auth]='ops|monitor|cursor|net|driver'
  [monitor]='ops|auth|cursor|net|driver'
  [cursor]='auth|monitor|net|driver'
  [net]='monitor|cursor|driver'
)
status=0
for layer in "${!forbidden[@]}"; do
  hits=$(grep -nE "#include [\"<](${forbidden[$layer]})/" "$repo/$layer"/*.hpp "$repo/$layer"/*.cpp 2>/dev/null)
  if [[ -n $hits ]]; then
    echo "layer '$layer' reaches upward:"; echo "$hits"; status=1
  fi
done
# wire/, ops/ and auth/ are sans-I/O: no sockets, no threads. auth/ may take a std::mutex (not
# a thread of its own): its key cache is shared by all of a client's connections.
for layer in wire ops auth; do
  pattern='boost/asio|thread|sys/socket\.h|mutex'
  [[ $layer == auth ]] && pattern='boost/asio|thread|sys/socket\.h'
  hits=$(grep -nE "#include [<\"]($pattern)" "$repo/$layer"/*.hpp "$repo/$layer"/*.cpp 2>/dev/null)
  [[ -z $hits ]] || { echo "$layer/ must not do I/O or threads:"; echo "$hits"; status=1; }
done
# auth/ takes OpenSSL's crypto only: TLS and BIOs (which do I/O) are net/'s.
hits=$(grep -nE '#include [<"]openssl/(ssl|bio)\.h' "$repo"/auth/*.hpp "$repo"/auth/*.cpp 2>/dev/null)
[[ -z $hits ]] || { echo "auth/ must not use OpenSSL's TLS or BIOs:"; echo "$hits"; status=1; }
[[ $status == 0 ]] && echo "layering ok"
exit $status
