#!/usr/bin/env bash
# Builds the OP_MSG/OP_COMPRESSED libFuzzer target (tests/fuzz/op_msg_fuzzer.cpp + wire/*.cpp + ops/*.cpp, with ASan and
# UBSan) and runs it for the given seconds (default 60) on a copy of the seed corpus, so the
# repository's corpus stays as committed. Exits non-zero when the fuzzer finds a crash; the
# reproducer is left in the build dir (crash-*).
#
#   scripts/fuzz.sh [seconds]          build dir: $FUZZ_BUILD_DIR or build-fuzz/
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
build=${FUZZ_BUILD_DIR:-$repo/build-fuzz}
cxx=${CXX_FUZZ:-$(command -v clang++-14 || command -v clang++)}

mkdir -p "$build"
echo "building $build/op_msg_fuzzer with $cxx"
"$cxx" -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -I"$repo" -I/usr/include/libbson-1.0 \
  "$repo"/tests/fuzz/op_msg_fuzzer.cpp "$repo"/wire/*.cpp "$repo"/ops/*.cpp \
  -lbson-1.0 -lzstd -lsnappy -lz -o "$build/op_msg_fuzzer"

corpus=$build/corpus-op_msg
rm -rf "$corpus"
mkdir -p "$corpus"
cp "$repo"/tests/fuzz/corpus/op_msg/* "$corpus"/

cd "$build"
echo "fuzzing for ${seconds}s on a copy of the corpus ($corpus)"
# A single job (the machine is shared); -max_len covers the seeds with room to grow.
exec ./op_msg_fuzzer -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 "$corpus"
