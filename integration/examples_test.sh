#!/usr/bin/env bash
# examples_test.sh BIN_DIR STATE_DIR ferretdb|java
# Runs the example programs with the command lines the README gives, against one of the suite's
# real servers (its fixture wrote STATE_DIR/uri), and checks what they claim against the server's
# own log: every cursor that iterate_cursors abandoned appears in a killCursors it received.
set -uo pipefail
bin=${1:?bin dir}
state=${2:?state dir}
server=${3:?ferretdb or java}
uri=$(cat "$state/uri") || { echo "no server URI in $state/uri (fixture not started?)"; exit 1; }
case $server in
ferretdb) log=$state/ferretdb.log ;;
java) log=$state/javaserver.log ;;
*) echo "unknown server $server (ferretdb or java)"; exit 2 ;;
esac
# Whether the server's log shows a killCursors of cursor $1 on collection "cursors".
log_shows_kill() {
  case $server in
  # FerretDB's debug log prints each request over several lines; the ids follow the key.
  ferretdb) grep -A2 '"killCursors": "cursors"' "$log" | grep -q "int64($1)" ;;
  # mongo-java-server logs each request on one line: "cursors" : [ 3, 4 ].
  java) grep -Eq "\"killCursors\" : \"cursors\", \"cursors\" : \[([^]]*[ ,])?$1[ ,]" "$log" ;;
  esac
}
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

out=$("$bin/iterate_cursors" --uri "$uri" --db examples_test --coll cursors --docs 500 \
  --batch-size 50 --abandon 4 --wait-ms 5000)
status=$?
echo "$out"
((status == 0)) || fail "iterate_cursors exited $status"
ids=$(sed -n 's/^abandoned cursor \([0-9-]*\) ns=examples_test.cursors$/\1/p' <<<"$out")
[[ $(wc -w <<<"$ids") == 4 ]] || fail "expected 4 abandoned cursors, got: $ids"
for id in $ids; do
  grep -q "^killed $id in " <<<"$out" || fail "no 'killed $id' line"
  # With MONGODB_URI, FerretDB's place is taken by a mongod whose log is not ours to read.
  if [[ $server == java || -z ${MONGODB_URI:-} ]]; then
    log_shows_kill "$id" || fail "$server's log $log has no killCursors for cursor $id"
  fi
done

# async_iterate: the async API on one io_context; its abandoned cursor must reach the server.
if [[ -x $bin/async_iterate ]]; then
  out=$("$bin/async_iterate" --uri "$uri" --db examples_test --coll cursors_async --docs 10 \
    --batch-size 3 --concurrent 100 --wait-ms 5000)
  status=$?
  echo "$out"
  ((status == 0)) || fail "async_iterate exited $status"
  grep -q '^iterated 10 documents with batch size 3 (3 getMores)$' <<<"$out" ||
    fail "async_iterate did not iterate 10 documents over 3 getMores"
  grep -q '^100 concurrent find_ones: 100 found the right document$' <<<"$out" ||
    fail "async_iterate's concurrent find_ones did not all find their document"
  id=$(sed -n 's/^abandoned cursor \([0-9-]*\) ns=examples_test.cursors_async after 1 document: killCursors will be sent by the kill-cursors executor$/\1/p' <<<"$out")
  if [[ -z $id ]]; then
    fail "async_iterate abandoned no cursor"
  else
    grep -q "^killed $id$" <<<"$out" || fail "async_iterate's cursor $id was not killed"
    if [[ $server == java || -z ${MONGODB_URI:-} ]]; then
      case $server in
      ferretdb) grep -A2 '"killCursors": "cursors_async"' "$log" | grep -q "int64($id)" ;;
      java) grep -Eq "\"killCursors\" : \"cursors_async\", \"cursors\" : \[([^]]*[ ,])?$id[ ,]" "$log" ;;
      esac || fail "$server's log $log has no killCursors for async_iterate's cursor $id"
    fi
  fi
fi

out=$("$bin/watch_topology" --uri "${uri%/}/?heartbeatFrequencyMS=500" --seconds 2)
status=$?
echo "$out" | head -n 5
((status == 0)) || fail "watch_topology exited $status"
[[ $(grep -c '^[0-9:.]* heartbeat .* ok in ' <<<"$out") -ge 2 ]] || fail "watch_topology saw fewer than 2 heartbeats"
grep -q 'topology: Unknown -> ' <<<"$out" || fail "watch_topology printed no topology change"
# Once discovered, the server must stay known: a failed heartbeat would show
# "server HOST:PORT: Standalone ... -> Unknown error=...".
lost=$(grep -E '^[0-9:.]+ server [^ ]+: [^U ][^ ]* .*-> Unknown' <<<"$out" | head -n 1)
[[ -z $lost ]] || fail "watch_topology lost the server: $lost"

out=$("$bin/api_tour" --uri "$uri")
status=$?
((status == 0)) || fail "api_tour exited $status"
grep -q '^alan 41$' <<<"$out" && grep -q '^grace 85$' <<<"$out" || fail "api_tour's find printed: $out"
grep -q '\[event\] killCursors on ' <<<"$out" || fail "api_tour's abandoned cursor was not killed"

# crud_shell: each operation's result as relaxed extended JSON, checked against the next read.
shell() { "$bin/crud_shell" --uri "$uri" "$@"; }
shell drop examples_test.shell >/dev/null || fail "crud_shell drop failed"
shell insert_many examples_test.shell '[{"name":"ada","age":36},{"name":"alan","age":41}]' \
  | grep -q '"insertedCount" : 2' || fail "crud_shell insert_many did not report 2 inserted"
out=$(shell update_one examples_test.shell '{"name":"ada"}' '{"$set":{"age":37}}')
[[ $out == *'"matchedCount" : 1, "modifiedCount" : 1'* ]] || fail "crud_shell update_one printed: $out"
out=$(shell find_one examples_test.shell '{"name":"ada"}' '{"projection":{"_id":0}}')
[[ $out == '{ "name" : "ada", "age" : 37 }' ]] || fail "crud_shell find_one after the update printed: $out"
out=$(shell count_documents examples_test.shell '{"age":{"$gt":36}}')
[[ $out == '{ "n" : 2 }' ]] || fail "crud_shell count_documents printed: $out"
err=$(shell update_one examples_test.shell '{}' '{"age":1}' 2>&1 >/dev/null)
(($? == 1)) && [[ $err == *"not an update operator"* ]] ||
  fail "crud_shell update_one without \$ operators: $err"
shell frobnicate >/dev/null 2>&1
(($? == 2)) || fail "crud_shell with an unknown operation did not exit 2"
shell drop examples_test.shell >/dev/null

# Errors: one line on stderr, non-zero exit (an unreachable server after the selection timeout
# the user set, and a bad URI).
check_error() {
  local program=$1; shift
  local err status
  err=$("$bin/$program" "$@" 2>&1 >/dev/null)
  status=$?
  ((status != 0)) || fail "$program $* exited 0"
  [[ $(wc -l <<<"$err") == 1 && $err == "$program: error: "* ]] ||
    fail "$program $*: not a one-line error: $err"
}
unreachable=(--uri mongodb://127.0.0.1:1/ --server-selection-timeout-ms 300)
check_error watch_topology "${unreachable[@]}" --seconds 1
check_error iterate_cursors "${unreachable[@]}"
check_error watch_topology --uri mongodb://bad:uri:x/
check_error iterate_cursors --uri mongodb://bad:uri:x/

((failures == 0)) && echo "examples ok on $server"
exit $((failures > 0))
