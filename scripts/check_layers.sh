#!/usr/bin/env bash
# Fails when a layer includes a header from a layer it may not use (DESIGN.md, "Layout").
set -u
repo=${1:-$(cd "$(dirname "$0")/.." && pwd)}
declare -A forbidden=(
  [wire]='monitor|cursor|driver'
  [monitor]='cursor|driver'
  [cursor]='monitor|driver'
)
status=0
for layer in "${!forbidden[@]}"; do
  hits=$(grep -nE "#include [\"<](${forbidden[$layer]})/" "$repo/$layer"/*.hpp "$repo/$layer"/*.cpp 2>/dev/null)
  if [[ -n $hits ]]; then
    echo "layer '$layer' reaches upward:"; echo "$hits"; status=1
  fi
done
# wire/ is sans-I/O: no sockets, no threads.
hits=$(grep -nE '#include [<"](boost/asio|thread|sys/socket\.h|mutex)' "$repo"/wire/*.hpp "$repo"/wire/*.cpp 2>/dev/null)
[[ -z $hits ]] || { echo "wire/ must not do I/O or threads:"; echo "$hits"; status=1; }
[[ $status == 0 ]] && echo "layering ok"
exit $status
