#!/usr/bin/env python3
"""Runs DriverBench for mongoslice, libmongoc and PyMongo side by side (bench/driverbench/README.md).

    run.py BUILD_DIR OUT_JSON [--quick]

Starts one FerretDB (SQLite, --log-level=warn) and one bench_replay_server holding 10,000 canned
tweets, then runs every task ROUNDS times per driver, interleaved (the drivers' order rotates
each round), each task in its own process. Against FerretDB the per-operation tasks are scaled
down (see SETTINGS: this FerretDB takes ~15-60 ms per find by _id and ~27 s per 2.7 MB
document), and the scale is recorded and shown. Every run is kept, failed ones too.
Then counts instructions per document of find many against the replay server with callgrind.
Exits 1 when any run failed (its error is in OUT_JSON): --quick is the CI smoke run (ctest
DriverBench.QuickSmokeRun, label bench), which checks every side runs every task it names.
"""
import json
import os
import re
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DATA_TARBALLS = Path(os.environ.get("MONGOSLICE_BENCH_DATA",
                                    "/work/shared/spec-tests/benchmarking/data"))
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "mongoslice"
FERRETDB = Path(os.environ.get("MONGOSLICE_FERRETDB", CACHE / "bin" / "ferretdb"))

# The spec's dataset size of each task, in MB (1,000,000 bytes), at its full operation count.
SPEC_MB = {
    "bson_flat_encode": 75.31, "bson_flat_decode": 75.31,
    "bson_deep_encode": 19.64, "bson_deep_decode": 19.64,
    "bson_full_encode": 57.34, "bson_full_decode": 57.34,
    "run_command": 0.13, "find_one": 16.22,
    "insert_one_small": 2.75, "insert_one_large": 27.31,
    "find_many": 16.22, "insert_many_small": 2.75, "insert_many_large": 27.31,
    "ldjson_import": 565.0, "ldjson_export": 565.0,
}
BSON_TASKS = [t for t in SPEC_MB if t.startswith("bson_")]
# The large-document tasks have 10 operations at any scale; the BSON tasks 10,000.
UNSCALED = set(BSON_TASKS) | {"insert_one_large", "insert_many_large"}

SETTINGS = {
    # rounds per driver; iterations per run; per target: the tasks and {task: scale}.
    "full": {
        "rounds": 3,
        "iterations": {"bson": 5, "replay": 5, "ferretdb": 3},
        "ferretdb_tasks": ["run_command", "find_one", "insert_one_small", "find_many",
                           "insert_many_small", "ldjson_import", "ldjson_export"],
        "ferretdb_scale": {"find_one": 100, "default": 20},
        "replay_tasks": ["run_command", "find_one", "find_many"],
        "ldjson_files": 1,
        "bson_tasks": BSON_TASKS,
        "callgrind": True,
    },
    "quick": {
        "rounds": 1,
        "iterations": {"bson": 1, "replay": 1, "ferretdb": 1},
        "ferretdb_tasks": ["run_command", "insert_many_small", "find_many"],
        "ferretdb_scale": {"default": 100},
        "replay_tasks": ["find_one", "find_many"],
        "ldjson_files": 1,
        "bson_tasks": ["bson_flat_encode", "bson_flat_decode"],
        "callgrind": False,
    },
}
# Left out of every run, with the reason the report gives.
LEFT_OUT = {
    "insert_one_large": "one insert of the 2.7 MB, 94,355-key document took FerretDB 1.24 (SQLite) "
                        "27 s (PyMongo, 2026-12-02; libmongoc's and ours over 60 s under load): "
                        "10 per iteration for 3 drivers would take most of an hour",
    "insert_many_large": "as insert_one_large",
    "gridfs": "GridFS is not built in mongoslice",
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def data_dir():
    """The spec's data sets, unpacked once into the cache."""
    target = CACHE / "driverbench-data"
    for name, marker in [("extended_bson.tgz", "extended_bson/flat_bson.json"),
                         ("single_and_multi_document.tgz", "single_and_multi_document/tweet.json"),
                         ("parallel.tgz", "parallel/ldjson_multi/ldjson099.txt")]:
        if not (target / marker).exists():
            target.mkdir(parents=True, exist_ok=True)
            print(f"unpacking {name} into {target}...", file=sys.stderr)
            with tarfile.open(DATA_TARBALLS / name) as tar:
                members = [m for m in tar.getmembers() if "gridfs" not in m.name]
                tar.extractall(target, members=members)
    return target


def proc_cpu_s(pid):
    """utime + stime of a process, from /proc/PID/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def parse(output):
    """{task: {"wall": [...], "cpu": s, "ops": n} or {"error": text}} from a program's stdout."""
    out = {}
    for line in output.splitlines():
        if line.startswith("#") or " " not in line:
            continue
        task, rest = line.split(" ", 1)
        if rest.startswith("error="):
            out[task] = {"error": rest[len("error="):]}
            continue
        fields = dict(f.split("=", 1) for f in rest.split())
        out[task] = {"wall": [float(t) for t in fields["wall"].split(",") if t],
                     "cpu": float(fields["cpu"]), "ops": int(fields["ops"])}
    return out


def commands(build, py):
    return {
        "mongoslice": [str(build / "bench" / "bench_mongoslice_driverbench")],
        "libmongoc": [str(build / "bench" / "bench_libmongoc_driverbench")],
        "PyMongo": [py, str(REPO / "bench" / "driverbench" / "pymongo_driverbench.py")],
    }


def run_one(cmd, uri, data, iterations, seed, scale, files, task, timeout):
    full = cmd + [uri, str(data), str(iterations), str(seed), str(scale), str(files), task]
    try:
        p = subprocess.run(full, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s"}
    result = parse(p.stdout).get(task)
    if result is None:
        result = {"error": f"exit {p.returncode}: {p.stderr.strip()[-300:]}"}
    return result


def scaled_mb(task, scale, files):
    if task.startswith("ldjson"):
        return SPEC_MB[task] * files / 100
    return SPEC_MB[task] if task in UNSCALED else SPEC_MB[task] / scale


def callgrind_find_many(cmds, uri, data, work):
    """Instructions per document of find many (10,000 documents) against the replay server:
    (Ir of 3 iterations - Ir of 1 iteration) / 20,000, which leaves out start-up and connection;
    plus mongoslice's top functions (exclusive Ir) of the 3-iteration run."""
    out = {}
    for driver, cmd in cmds.items():
        totals = {}
        for n in (1, 3):
            f = work / f"callgrind.{driver}.{n}"
            full = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={f}"] + cmd + [
                uri, str(data), str(n), "0", "1", "1", "find_many"]
            p = subprocess.run(full, capture_output=True, text=True, timeout=600)
            if "find_many wall=" not in p.stdout:
                out[driver] = {"error": (p.stdout + p.stderr)[-300:]}
                break
            summary = [l for l in f.read_text().splitlines() if l.startswith("summary:")]
            totals[n] = int(summary[0].split()[1])
        else:
            out[driver] = {"ir_per_doc": (totals[3] - totals[1]) / 20000,
                           "ir_1": totals[1], "ir_3": totals[3]}
            a = subprocess.run(["callgrind_annotate", "--threshold=99", str(work / f"callgrind.{driver}.3")],
                               capture_output=True, text=True)
            top = []
            for line in a.stdout.splitlines():
                # "  75,652,724 (67.39%)  file:function [object]"
                m = re.match(r"^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(.*)$", line)
                if m and "PROGRAM TOTALS" not in m.group(2):
                    top.append({"ir": int(m.group(1).replace(",", "")), "function": m.group(2)[:160]})
            out[driver]["top"] = top[:15]
    return out


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    build = (REPO / sys.argv[1]).resolve()
    out_path = Path(sys.argv[2])
    mode = "quick" if "--quick" in sys.argv[3:] else "full"
    s = SETTINGS[mode]
    py = os.environ.get("MONGOSLICE_PYTHON", str(REPO / ".venv" / "bin" / "python"))
    data = data_dir()
    cmds = commands(build, py)
    drivers = list(cmds)
    work = Path(tempfile.mkdtemp(prefix="mongoslice-driverbench."))
    procs = []
    started = time.time()
    try:
        port = free_port()
        (work / "data").mkdir()
        procs.append(subprocess.Popen(
            [str(FERRETDB), "--handler=sqlite", f"--sqlite-url=file:{work}/data/",
             f"--state-dir={work}", f"--listen-addr=127.0.0.1:{port}", "--log-level=warn",
             "--telemetry=disable", "--debug-addr=-"],
            stdout=open(work / "ferretdb.log", "w"), stderr=subprocess.STDOUT))
        replay = subprocess.Popen(
            [str(build / "bench" / "bench_replay_server"), "0", "1",
             str(data / "single_and_multi_document" / "tweet.json"), "10000"],
            stdout=subprocess.PIPE, text=True)
        procs.append(replay)
        replay_port = int(replay.stdout.readline().split()[1])
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        ferret_uri = f"mongodb://127.0.0.1:{port}/"
        replay_uri = f"mongodb://127.0.0.1:{replay_port}/?directConnection=true"
        results = {"bson": {}, "ferretdb": {}, "replay": {}}
        server_cpu = {}  # replay task -> driver -> [{server_cpu, client_cpu}]
        plan = ([("bson", t) for t in s["bson_tasks"]] +
                [("replay", t) for t in s["replay_tasks"]] +
                [("ferretdb", t) for t in s["ferretdb_tasks"]])
        for r in range(s["rounds"]):
            order = drivers[r % len(drivers):] + drivers[:r % len(drivers)]
            for target, task in plan:
                scale = (s["ferretdb_scale"].get(task, s["ferretdb_scale"]["default"])
                         if target == "ferretdb" else 1)
                uri = ferret_uri if target == "ferretdb" else replay_uri
                seed = 1 if target == "ferretdb" else 0
                iterations = s["iterations"][target]
                for driver in order:
                    before = proc_cpu_s(replay.pid)
                    t0 = time.time()
                    res = run_one(cmds[driver], uri, data, iterations, seed, scale,
                                  s["ldjson_files"], task, timeout=240)
                    res.update(round=r + 1, scale=scale, seconds=round(time.time() - t0, 2),
                               mb=scaled_mb(task, scale, s["ldjson_files"]),
                               load=open("/proc/loadavg").read().split()[0])
                    if target == "replay" and "cpu" in res:
                        res["server_cpu"] = proc_cpu_s(replay.pid) - before
                    results[target].setdefault(task, {}).setdefault(driver, []).append(res)
                    shown = res.get("error") or f"median {sorted(res['wall'])[len(res['wall']) // 2]:.4f} s"
                    print(f"round {r + 1} {target:8} {task:18} {driver:10} {shown}", file=sys.stderr)
        pymongo_c = subprocess.run([py, "-c", "import bson, pymongo; print(bson.has_c(), pymongo.has_c())"],
                                   capture_output=True, text=True).stdout.strip()
        record = {
            "mode": mode, "settings": s, "spec_mb": SPEC_MB, "left_out": LEFT_OUT,
            "seconds": round(time.time() - started), "results": results,
            "callgrind": {}, "pymongo_has_c": pymongo_c,
            "command": " ".join(["bench/driverbench/run.py"] + sys.argv[1:]),
        }
        out_path.write_text(json.dumps(record, indent=1))  # kept even if callgrind fails
        if s["callgrind"]:
            try:
                record["callgrind"] = callgrind_find_many(cmds, replay_uri, data, work)
            except Exception as e:  # reported in the report, never hidden
                record["callgrind"] = {"error": f"{type(e).__name__}: {e}"}
            record["seconds"] = round(time.time() - started)
            out_path.write_text(json.dumps(record, indent=1))
        print(f"wrote {out_path} in {time.time() - started:.0f} s", file=sys.stderr)
        failed = [f"{target} {task} {driver} round {r['round']}: {r['error']}"
                  for target, tasks in results.items() for task, by in tasks.items()
                  for driver, runs in by.items() for r in runs if "error" in r]
        for line in failed:
            print(f"FAILED {line}", file=sys.stderr)
        return 1 if failed else 0
    finally:
        for p in procs:
            p.kill()
            p.wait()
        subprocess.run(["rm", "-rf", str(work)])


if __name__ == "__main__":
    sys.exit(main())
