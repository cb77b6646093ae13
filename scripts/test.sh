#!/usr/bin/env bash
# The whole test suite, as README.md's Quick start gives it and as CI (.ci/run) runs it:
#
#   1. scripts/setup.sh (installs what is missing; quick when all is there)
#   2. a normal build: every unit, spec and integration test (FerretDB started by ctest)
#   3. an AddressSanitizer + UndefinedBehaviorSanitizer build: the same tests again (the
#      unified-format tests each binary's in one process, not one process per test)
#   4. a ThreadSanitizer build: the concurrency suites (executors, kill queue, cursors, monitors)
#   5. the OP_MSG decoder fuzzer for a bounded time (MONGOSLICE_FUZZ_SECONDS, default 60)
#
# Builds are cached between runs on the same machine with ccache. Exits non-zero if any step
# fails; the last line sums up the tests of every phase: "total: N passed, N failed".
set -uo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
bash scripts/setup.sh >/dev/null || { echo "setup failed"; exit 1; }

export CCACHE_DIR=${CCACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mongoslice/ccache}
export CCACHE_BASEDIR=$repo CCACHE_NOHASHDIR=1 CCACHE_MAXSIZE=5G
jobs=${MONGOSLICE_JOBS:-$(nproc)}
build_root=${MONGOSLICE_BUILD_ROOT:-$repo}

passed=0 failed=0 status=0
failed_names=()  # "phase: test" of every failed test, listed again in the summary
current_phase=set-up
# Each phase's heading also gives the seconds since the previous heading, so that the log shows
# how long each phase took.
phase_started=0  # the first heading's "previous phase" is the set-up
phase() {
  printf '\n==== %s (previous phase: %d s, total: %d s) ====\n' "$*" $((SECONDS - phase_started)) "$SECONDS"
  phase_started=$SECONDS
  current_phase=$*
}

# run_ctest BUILD_DIR [ctest args...]: runs ctest, adds its counts to the totals.
run_ctest() {
  local dir=$1; shift
  local log; log=$(mktemp)
  ctest --test-dir "$dir" --output-on-failure -j "$jobs" --timeout 600 "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  local line; line=$(grep -E 'tests passed, [0-9]+ tests failed out of [0-9]+' "$log" | tail -n 1)
  if [[ $line =~ ([0-9]+)\ tests\ failed\ out\ of\ ([0-9]+) ]]; then
    failed=$((failed + BASH_REMATCH[1]))
    passed=$((passed + BASH_REMATCH[2] - BASH_REMATCH[1]))
  elif ((rc != 0)); then
    failed=$((failed + 1))
  fi
  # ctest lists its failures after "The following tests FAILED:", one "  N - Name (Why)" a line.
  local name
  while IFS= read -r name; do
    failed_names+=("$current_phase: $name")
  done < <(sed -n '/The following tests FAILED:/,$p' "$log" | sed -nE 's/^[[:space:]]+[0-9]+ - (.*)$/\1/p')
  rm -f "$log"
  ((rc == 0)) || status=1
}

# run_gtest_in_process LABEL BINARY FILTER [VAR=value ...]: runs the gtest binary once, every
# test FILTER selects in that one process (no ctest: a process per test costs more than the
# test itself under ASan), within 20 minutes, and adds its counts to the totals. The whole
# output goes to BINARY's directory (LABEL with its spaces as dashes, .log); the log shows the
# failures, and the last lines of the output when the process did not end well.
run_gtest_in_process() {
  local label=$1 binary=$2 filter=$3; shift 3
  local log; log="$(dirname "$binary")/${label// /-}.log"
  timeout --kill-after=30 1200 env "$@" "$binary" --gtest_filter="$filter" >"$log" 2>&1
  local rc=$?
  grep -E '^\[(==========|  PASSED  |  SKIPPED |  FAILED  )\]|^\[unified\]' "$log" | grep -v '^\[  SKIPPED \] [^0-9]'
  local ran; ran=$(sed -nE 's/^\[==========\] ([0-9]+) tests? from .* ran\..*/\1/p' "$log" | tail -n 1)
  local names; names=$(sed -nE 's/^\[  FAILED  \] ([^ ,]+)( \(.*)?$/\1/p' "$log" | sort -u)
  local bad=0 name
  while IFS= read -r name; do
    [[ -n $name ]] || continue
    bad=$((bad + 1)); failed_names+=("$current_phase: $label: $name")
  done <<<"$names"
  if [[ -z $ran || $ran == 0 || ($rc != 0 && $bad == 0) ]]; then
    # It crashed, hung (timeout: exit 124), ran nothing, or failed after its tests (a leak
    # report at exit): one failure more, named by its label.
    echo "---- $label: exit $rc after ${ran:-no} tests; the output's end ($log):"
    tail -n 40 "$log"
    failed=$((failed + 1)); status=1
    failed_names+=("$current_phase: $label (exit $rc, ${ran:-no} tests ran)")
    ran=${ran:-0}
  fi
  passed=$((passed + ran - bad)); failed=$((failed + bad))
  ((rc == 0)) || status=1
}

# run_unified_in_process BUILD_DIR: the unified-format tests of BUILD_DIR's unified_tests against
# both real servers, blocking API then async API, each run in one process. Not through ctest:
# ctest runs each test in a process of its own, one at a time per server (a spec file's tests
# share database names), and a process of unified_tests takes 0.2 s to start (1.6 s under
# ASan), several times what most tests take; ~2,200 processes made the ASan phase 35 minutes.
run_unified_in_process() {
  local dir=$1
  # The servers are stopped however this ends (an interrupted run included).
  trap "bash '$repo/integration/javaserver.sh' stop '$dir/javaserver' >/dev/null 2>&1; \
        bash '$repo/integration/ferretdb.sh' stop '$dir/ferretdb' >/dev/null 2>&1" EXIT
  if ! bash "$repo/integration/javaserver.sh" start "$dir/javaserver" >/dev/null ||
    ! bash "$repo/integration/ferretdb.sh" start "$dir/ferretdb" >/dev/null; then
    echo "cannot start the unified tests' servers"
    failed=$((failed + 1)); status=1; failed_names+=("$current_phase: starting the servers")
  else
    # Every test of the binary (both servers, MONGODB_URI's when set, the schema tests).
    run_gtest_in_process "unified (blocking API)" "$dir/integration/unified_tests" '*'
    run_gtest_in_process "unified (async API)" "$dir/integration/unified_tests" \
      'Unified_crud_unified.*:Unified_run_command_unified.*' MONGOSLICE_UNIFIED_ASYNC=1
  fi
  bash "$repo/integration/javaserver.sh" stop "$dir/javaserver" >/dev/null || true
  bash "$repo/integration/ferretdb.sh" stop "$dir/ferretdb" >/dev/null || true
  trap - EXIT
}

# configure_and_build DIR [cmake args...] [-- targets...]
configure_and_build() {
  local dir=$1; shift
  local args=()
  while (($#)) && [[ $1 != -- ]]; do args+=("$1"); shift; done
  (($#)) && shift  # the "--"; what is left are targets (none: all)
  cmake -S "$repo" -B "$dir" -G Ninja -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
    -DCMAKE_C_COMPILER_LAUNCHER=ccache "${args[@]}" >/dev/null &&
    ninja -C "$dir" -j "$jobs" "$@"
}

phase "build (RelWithDebInfo)"
if configure_and_build "$build_root/build"; then
  phase "tests"
  run_ctest "$build_root/build" -E '^(Async\.)?Unified'
  phase "unified-format tests (one process per engine)"
  run_unified_in_process "$build_root/build"
else
  echo "build failed"; failed=$((failed + 1)); status=1
fi

phase "build (AddressSanitizer + UndefinedBehaviorSanitizer)"
if configure_and_build "$build_root/build-asan" -DMONGOSLICE_SANITIZE=address \
  -DMONGOSLICE_BUILD_BENCH=OFF -DMONGOSLICE_BUILD_EXAMPLES=OFF; then
  phase "tests under ASan+UBSan"
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1
  run_ctest "$build_root/build-asan" -E '^(Async\.)?Unified'
  phase "unified-format tests under ASan+UBSan (one process per engine)"
  run_unified_in_process "$build_root/build-asan"
  unset ASAN_OPTIONS UBSAN_OPTIONS
else
  echo "ASan build failed"; failed=$((failed + 1)); status=1
fi

phase "build (ThreadSanitizer: concurrency suites)"
# Only the unit-test binaries that hold the concurrency suites are built here.
if configure_and_build "$build_root/build-tsan" -DMONGOSLICE_SANITIZE=thread \
  -DMONGOSLICE_BUILD_BENCH=OFF -DMONGOSLICE_BUILD_EXAMPLES=OFF -- \
  monitor_tests cursor_tests driver_tests; then
  phase "concurrency tests under TSan"
  TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
    run_ctest "$build_root/build-tsan" -L unit -R '^(PeriodicExecutor|Executor|KillQueue|KillList|KillCursors|Cursor|ForkGeneration|Monitor|Topology|Pool|Connection|Dns|DeadlineSocket|OperationInterrupt|EventDispatcher|ClientServerErrors|Async|SelectionWaiters|SrvPolling|SrvLookup|EventTurns|Files/SdamErrorsSpec|Files/CmapSpec|ServerSessionPool|ImplicitSessions|RetryableWrites|RetryableReads)[A-Za-z]*\.'
else
  echo "TSan build failed"; failed=$((failed + 1)); status=1
fi

if [[ -x scripts/fuzz.sh ]]; then
  phase "fuzzing the OP_MSG decoder (${MONGOSLICE_FUZZ_SECONDS:-60} s)"
  if bash scripts/fuzz.sh "${MONGOSLICE_FUZZ_SECONDS:-60}"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1)); status=1; failed_names+=("$current_phase: the fuzzer")
  fi
fi

phase "summary"
# The failures again, so that the last lines of a long log name them.
for name in "${failed_names[@]}"; do echo "FAILED in $name"; done
echo "total: $passed passed, $failed failed"
exit $status
