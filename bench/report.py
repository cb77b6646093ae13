#!/usr/bin/env python3
"""Turns the raw results of bench/run_all.sh into REPORT.md and headline.png.

    report.py RAW_DIR OUT_DIR

RAW_DIR holds, per part, PART.json (Google Benchmark's JSON output, or the JSON a compare script
writes when MONGOSLICE_BENCH_JSON is set), PART.meta.json (command, load, duration, status) and
machine.json. A part whose results are missing shows as "not run"; the rest of the report is
still written.
"""

import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Row:
    part: str
    figure: str
    ours: float | None
    reference: str  # what we compare against
    theirs: float | None
    goal: str = ""
    met: bool | None = None  # None: no goal for this figure
    headline: str = ""  # label in the chart; empty: not in the chart
    goal_ratio: float | None = None  # the goal as a ratio to the reference, marked in the chart

    @property
    def ratio(self):
        if self.ours is None or self.theirs is None or self.theirs == 0:
            return None
        if math.isnan(self.ours) or math.isnan(self.theirs):
            return None
        return self.ours / self.theirs


def load(path):
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None


def gbench(data, run_name, field, aggregate="median"):
    """A figure of one Google Benchmark run: its median over repetitions when aggregated."""
    if not data:
        return None
    def name_of(b):  # without the "/repeats:N" that Repetitions() in the code adds
        parts = b.get("run_name", b["name"]).split("/")
        return "/".join(p for p in parts if not p.startswith("repeats:"))

    runs = [b for b in data.get("benchmarks", []) if name_of(b) == run_name]
    chosen = [b for b in runs if b.get("aggregate_name") == aggregate] or [
        b for b in runs if b.get("run_type") == "iteration"
    ]
    if not chosen:
        return None
    value = chosen[0].get(field)
    if value is None:
        return None
    if field in ("real_time", "cpu_time"):  # to milliseconds
        scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}[chosen[0].get("time_unit", "ns")]
        return value * scale
    return value


def wire_codec_rows(data):
    # CPU time: single-threaded loops, and CPU time leaves out the time other processes on this
    # shared machine held the core (wall time is in the raw JSON and the log).
    ms = lambda name: gbench(data, name, "cpu_time")
    memcpy, decode = ms("BM_Memcpy"), ms("BM_Decode")
    decode_crc, encode = ms("BM_DecodeWithChecksum"), ms("BM_Encode")
    validate = ms("BM_LibbsonValidateUtf8")
    validate_none, read_only = ms("BM_LibbsonValidateNone"), ms("BM_ReadOnlyPass")
    size = gbench(data, "BM_Memcpy", "message_bytes")
    mib = f"{size / 2**20:.1f} MiB" if size else "16 MB"
    row = lambda *a, **k: Row("wire_codec", *a, **k)
    ok = lambda x, y, limit: None if x is None or y is None else x / y <= limit
    return [
        row(f"decode OP_MSG reply, {mib} (ms)", decode, "memcpy", memcpy, "<= 3x memcpy",
            ok(decode, memcpy, 3), "OP_MSG decode (16 MB)\nvs memcpy", 3),
        row(f"decode + CRC-32C check (ms)", decode_crc, "memcpy", memcpy),
        row(f"encode the same reply (ms)", encode, "memcpy", memcpy),
        row(f"decode (validates UTF-8 too) (ms)", decode, "libbson bson_validate", validate,
            headline="OP_MSG decode (16 MB)\nvs libbson bson_validate"),
        row(f"decode (validates UTF-8 too) (ms)", decode,
            "libbson bson_validate, BSON_VALIDATE_NONE (structure only)", validate_none),
        row(f"decode (ms)", decode, "read-only pass over the bytes (floor)", read_only),
    ]


def cursor_destroy_rows(data):
    live = "BM_DestroyCursor/batch:1000/live:1/manual_time"
    exhausted = "BM_DestroyCursor/batch:1000/live:0/manual_time"
    ns = gbench(data, live, "ns_per_destroy")
    allocs = gbench(data, live, "allocs_per_destroy")
    push = gbench(data, "BM_KillQueuePush/1000/manual_time", "ns_per_push")
    row = lambda *a, **k: Row("cursor_destroy", *a, **k)
    return [
        row("destroy a live cursor (ns)", ns, "exhausted cursor (no kill)",
            gbench(data, exhausted, "ns_per_destroy"), "<= 50 ns", None if ns is None else ns <= 50),
        row("allocations per live-cursor destruction", allocs, "", None, "0",
            None if allocs is None else allocs == 0),
        row("kill-queue push alone (ns)", push, "", None),
    ]


def executor_rows(data):
    ours = (data or {}).get("mongoslice", {})
    theirs = (data or {}).get("PyMongo", {})
    row = lambda label, key, goal="", limit=None, headline="", strict=False: Row(
        "executor", label, ours.get(key), "PyMongo PeriodicExecutor", theirs.get(key), goal,
        None if limit is None or key not in ours else
        (ours[key] < limit if strict else ours[key] <= limit), headline)
    return [
        row("idle context switches / executor / s", "idle_switches_per_executor_per_s",
            "<= 0.11", 0.11, "idle executor wake-ups\nvs PyMongo"),
        row("close -> joined, p50 (us)", "close_p50_us"),
        row("close -> joined, p99 (us)", "close_p99_us", "< 1000 us", 1000, "executor close p99\nvs PyMongo", True),
        row("wake -> target runs, p50 (us)", "wake_p50_us"),
        row("wake -> target runs, p99 (us)", "wake_p99_us", "< 1000 us", 1000, "executor wake p99\nvs PyMongo", True),
        row("RSS per open executor (KiB)", "rss_kib_per_executor", headline="RSS per executor\nvs PyMongo"),
        row("process exit with 50 running (ms)", "exit_ms", "<= ~1000 ms", 1000),
    ]


def topology_rows(data):
    ours = (data or {}).get("mongoslice", {})
    theirs = (data or {}).get("PyMongo", {})
    row = lambda label, key, goal="", met=None, headline="": Row(
        "topology", label, ours.get(key), "PyMongo MongoClient", theirs.get(key), goal, met,
        headline)
    per_beat = lambda side, key="switches_per_s": (
        side[key] / side["heartbeats_per_s"] if side.get("heartbeats_per_s") and key in side
        else None)
    ours_per_beat, theirs_per_beat = per_beat(ours), per_beat(theirs)
    key = "voluntary_switches_per_s"
    ours_blocked, theirs_blocked = per_beat(ours, key), per_beat(theirs, key)
    servers = (data or {}).get("servers", 100)
    return [
        row(f"context switches / s, {servers} servers idle", "switches_per_s",
            "~ heartbeats/s (next row)", None, "idle topology (100 mongos)\ncontext switches vs PyMongo"),
        Row("topology", "context switches per heartbeat (all)", ours_per_beat,
            "PyMongo MongoClient", theirs_per_beat, "", None),
        # A polling heartbeat blocks twice: until its deadline, then for the reply. Anything
        # more would be polling. (Involuntary switches are preemption by the load, not ours.)
        Row("topology", "  voluntary (blocking) switches per heartbeat", ours_blocked,
            "PyMongo MongoClient", theirs_blocked, "<= 2 (deadline + reply)",
            None if ours_blocked is None else ours_blocked <= 2),
        row("heartbeats / s", "heartbeats_per_s", f"~{servers / 10:.0f}/s"),
        row("threads", "threads", headline="idle topology threads\nvs PyMongo"),
        row("RSS (MiB)", "rss_mib", headline="idle topology RSS\nvs PyMongo"),
        row("discovery of all servers (ms)", "discovery_ms"),
    ]


def idle_clients_rows(data):
    """bench/idle_clients_compare.sh: medians of its runs (min and max are in its log)."""
    ours = (data or {}).get("mongoslice", {})
    theirs = (data or {}).get("PyMongo", {})
    clients = (data or {}).get("clients", 20)
    beats = 1000 / (data or {}).get("heartbeat_ms", 10000)  # heartbeats / server / s
    get = lambda side, key: None if side.get(key) is None or math.isnan(side[key]) else side[key]
    row = lambda label, key, goal="", met=None, headline="": Row(
        "idle_clients", label, get(ours, key), "PyMongo MongoClient (poll)", get(theirs, key),
        goal, met, headline)
    voluntary = get(ours, "voluntary_per_client_per_s")
    blocked = get(ours, "monitor_voluntary_per_heartbeat")
    kill = get(ours, "kill_per_client_per_s")
    # With no polling anywhere an idle client only pays its heartbeat: 2 blocking waits each
    # (the deadline, then the reply). The main thread of the program adds 1 / clients / window.
    # Judged on voluntary switches: involuntary ones are preemption by the load, not ours.
    limit = 2 * beats + 0.01
    return [
        row(f"wake-ups / client / s, {clients} idle clients x 1 server", "total_per_client_per_s",
            headline="idle client wake-ups\nvs PyMongo"),
        row("  voluntary (blocking) wake-ups / client / s", "voluntary_per_client_per_s",
            f"<= {limit:.2f} (heartbeats only)", None if voluntary is None else voluntary <= limit),
        row("  monitor wake-ups / server / s", "monitor_per_server_per_s",
            f"~{2 * beats:.1f} ({beats:.1f} heartbeats/s x 2)", None,
            "idle monitor wake-ups / server\nvs PyMongo"),
        row("  monitor voluntary (blocking) switches per heartbeat",
            "monitor_voluntary_per_heartbeat", "<= 2 (deadline + reply)",
            None if blocked is None else blocked <= 2),
        row("  heartbeats / server / s", "heartbeats_per_server_per_s", f"{beats:.1f}"),
        row("  kill-executor wake-ups / client / s", "kill_per_client_per_s", "0",
            None if kill is None else kill == 0, "idle kill executor wake-ups\nvs PyMongo"),
        row("  other threads' wake-ups / client / s", "other_per_client_per_s"),
        row("threads / client", "threads_per_client"),
    ]


def cursors_rows(data):
    """bench/cursor_compare.sh: through the real client, against libmongoc and PyMongo."""
    ours = data.get("mongoslice", {})
    rows = []
    for key, label, goal, limit, headline in [
        ("kill_latency_median_ms", "abandoned cursor -> server gets killCursors, median (ms)",
         "< 10 ms", 10, "kill latency (median)"),
        ("destroy_median_ns", "destroy a live cursor through the client, median (ns)", "", None,
         "cursor destruction"),
        ("destroy_burst_ns", "  the same, per destruction in bursts of 25 (wake included) (ns)", "",
         None, ""),
        ("destroy_allocs", "allocations per destruction (destroying thread)", "", None, ""),
        ("iterate_cpu_ns_per_doc", "iteration CPU per document (ns, user+sys)", "<= libmongoc",
         "libmongoc", "iteration CPU / document"),
    ]:
        if key not in ours:
            continue
        references = [r for r in ("libmongoc", "PyMongo") if key in data.get(r, {})] or [""]
        for i, reference in enumerate(references):
            theirs = data[reference][key] if reference else None
            # Each goal is judged once: on the libmongoc row for "<= libmongoc", else the first.
            if limit == "libmongoc":
                met = ours[key] <= theirs if reference == "libmongoc" else None
            else:
                met = None if limit is None or i > 0 else ours[key] < limit
            rows.append(Row("cursors", label, ours[key], reference, theirs,
                            goal if met is not None else "", met,
                            f"{headline}\nvs {reference}" if headline and reference else "",
                            1.0 if limit == "libmongoc" and reference == "libmongoc" else None))
    return rows


def round_trips_rows(data):
    """bench/round_trips_compare.sh: medians over its interleaved rounds (spread in Runs)."""
    ours = data.get("mongoslice", {})
    rows = []
    for kind in ("update_one", "find_one"):
        for measure, label, goal in [
            ("cpu_ns_per_op", f"{kind} by _id, client CPU per operation (ns, process user+sys)",
             "<= libmongoc"),
            ("wall_ns_per_op", f"  {kind} wall-clock per operation (ns, server included)", ""),
        ]:
            key = f"{kind}_{measure}"
            if key not in ours:
                continue
            for reference in ("libmongoc", "PyMongo"):
                theirs = data.get(reference, {}).get(key)
                judged = bool(goal) and reference == "libmongoc" and theirs is not None
                rows.append(Row("round_trips", label, ours[key], reference, theirs,
                                goal if judged else "", ours[key] <= theirs if judged else None,
                                f"{kind} client CPU / op\nvs {reference}" if goal else "",
                                1.0 if judged else None))
    return rows


# Labels of the figures in the min / median / max tables of the Runs section.
SPREAD_LABELS = {
    "iterate_cpu_ns_per_doc": "iteration CPU per document (ns)",
    "kill_latency_median_ms": "kill latency, median (ms)",
    "destroy_median_ns": "destroy a live cursor, median (ns)",
    "update_one_cpu_ns_per_op": "update_one client CPU / op (ns, process)",
    "update_one_thread_cpu_ns_per_op": "update_one calling thread's CPU / op (ns)",
    "update_one_wall_ns_per_op": "update_one wall-clock / op (ns)",
    "find_one_cpu_ns_per_op": "find_one client CPU / op (ns, process)",
    "find_one_thread_cpu_ns_per_op": "find_one calling thread's CPU / op (ns)",
    "find_one_wall_ns_per_op": "find_one wall-clock / op (ns)",
}


def spread_lines(data):
    """min / median / max per side of a part that ran several times ("spread" in its JSON)."""
    spread = (data or {}).get("spread")
    if not spread:
        return []
    sides = list(spread)
    if isinstance(data.get("rounds"), int):
        over = f"{data['rounds']} interleaved rounds"
    elif isinstance(data.get("runs"), int):
        over = f"{data['runs']} runs"
    else:
        over = "the runs"
    lines = [f"Min / median / max over {over}:", "",
             "| figure | " + " | ".join(sides) + " |", "| --- |" + " ---: |" * len(sides)]
    for key, label in SPREAD_LABELS.items():
        if not any(key in spread[side] for side in sides):
            continue
        cells = []
        for side in sides:
            x = spread[side].get(key)
            cells.append(" / ".join(number(x[k]) for k in ("min", "median", "max")) if x else "—")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    # Ratios round by round (the sides ran one after the other in each round), client CPU only.
    paired = [(name.split(".", 1), p) for name, p in data.get("paired_ratios", {}).items()
              if name.endswith("_cpu_ns_per_op") and "thread" not in name]
    if paired:
        lines += ["", "mongoslice / reference round by round, client CPU (min / median / max): "
                  + "; ".join(f"{key.split('_cpu')[0]} vs {reference} "
                              + " / ".join(f"{p[k]:.2f}" for k in ("min", "median", "max"))
                              for (reference, key), p in paired) + "."]
    return lines + [""]


PARTS = [
    ("wire_codec", wire_codec_rows, "OP_MSG codec on a ~16 MB cursor reply (Google Benchmark)"),
    ("cursor_destroy", cursor_destroy_rows, "Destroying a live cursor (Google Benchmark)"),
    ("executor", executor_rows, "PeriodicExecutor vs PyMongo's (bench/executor_compare.sh)"),
    ("topology", topology_rows, "Idle topology of 100 mongos (bench/topology_compare.sh)"),
    ("cursors", cursors_rows, "Cursors through the client (bench/cursor_compare.sh)"),
    ("round_trips", round_trips_rows,
     "update_one and find_one round trips against FerretDB (bench/round_trips_compare.sh)"),
    ("idle_clients", idle_clients_rows,
     "Idle MongoClients, whole (bench/idle_clients_compare.sh)"),
]


def number(x):
    if x is None:
        return "—"
    if isinstance(x, float) and math.isnan(x):
        return "n/a"
    if x == 0:
        return "0"
    magnitude = abs(x)
    if magnitude >= 100:
        return f"{x:,.0f}"
    if magnitude >= 10:
        return f"{x:.1f}"
    if magnitude >= 1:
        return f"{x:.2f}"
    return f"{x:.3g}"


def ratio_text(r):
    if r is None:
        return "—"
    if r == 0:
        return "0x"
    return f"{r:.2f}x" if r >= 0.1 else f"1/{1 / r:,.0f}"


def verdict(met):
    return {True: "met", False: "**not met**", None: ""}[met]


def write_report(raw, out, rows_by_part, machine, metas, previous):
    lines = ["# mongoslice benchmark report", ""]
    if machine:
        lines += [f"Generated by `{machine.get('run_all', 'bench/run_all.sh')}` on "
                  f"{machine.get('date', '?')} (commit {machine.get('commit', '?')}).", ""]
        for rerun in machine.get("reruns", []):
            lines += [f"Rerun afterwards: `{rerun['command']}` on {rerun['date']} (load "
                      f"{rerun['load']}); see Runs.", ""]
    lines += ["## Machine", "", "| | |", "| --- | --- |"]
    for key, label in [("cpu", "CPU"), ("nproc", "cores (nproc)"), ("memory", "memory"),
                       ("kernel", "kernel"), ("load_at_start", "load average at start (1/5/15 min)"),
                       ("compiler", "compiler"), ("pymongo", "PyMongo"),
                       ("libmongoc", "libmongoc")]:
        lines.append(f"| {label} | {(machine or {}).get(key, '?')} |")
    lines += ["", "## Results", "",
              "Ratio = mongoslice / reference: below 1 means ours is lower (faster, fewer, "
              "smaller). Google Benchmark figures are medians of the repetitions (wire_codec: CPU time; cursor_destroy: wall time of the destructor loop alone).", "",
              "| benchmark | figure | mongoslice | reference | reference value | ratio | goal | "
              "met |",
              "| --- | --- | ---: | --- | ---: | ---: | --- | --- |"]
    for part, _, _ in PARTS:
        for r in rows_by_part[part]:
            lines.append(f"| {part} | {r.figure} | {number(r.ours)} | {r.reference or '—'} | "
                         f"{number(r.theirs)} | {ratio_text(r.ratio)} | {r.goal or '—'} | "
                         f"{verdict(r.met)} |")
    goals = [r for rows in rows_by_part.values() for r in rows if r.met is not None]
    lines += ["", f"Goals met: {sum(r.met for r in goals)} of {len(goals)}.", "",
              "![headline ratios](headline.png)", "", "## Runs", "",
              "Each part's exact command (run from the repository root), when it started, how "
              "long it took and the load average (1/5/15 min) before and after it.", ""]
    nproc = (machine or {}).get("nproc", 2)
    for part, _, title in PARTS:
        meta = metas.get(part)
        lines.append(f"### {part}: {title}")
        lines.append("")
        if not meta:
            lines += ["Not run.", ""]
            continue
        lines += ["```", meta["command"], "```", "",
                  f"Started {meta['started']}, {meta['seconds']} s, exit status {meta['status']}; "
                  f"load {meta['load_before']} before, {meta['load_after']} after."]
        if float(meta["load_before"].split()[0]) >= nproc:
            lines.append(f"**The 1-minute load ({meta['load_before'].split()[0]}) was at or above "
                         f"the {nproc} cores: latencies and switch counts may be inflated.**")
        if part in previous:
            rows, meta = previous[part]
            judged = ", ".join(f"{r.figure} {number(r.ours)} ({verdict(r.met).strip('*')})"
                               for r in rows if r.met is not None)
            lines.append(f"This part was rerun. The run it replaces started {meta['started']} "
                         f"at load {meta['load_before']} and gave: {judged}.")
        lines.append("")
        lines += spread_lines(load(raw / f"{part}.json"))
    lines += ["## Notes", "",
              "- topology: a heartbeat wakes the client at least twice (the timer, then the "
              "reply), so the goal \"wake-ups ~ heartbeats\" is counted as met when the client "
              "process makes at most 2 context switches (voluntary + involuntary, all threads) "
              "per heartbeat.",
              "- idle_clients: medians of the part's runs (min / median / max of each side are in "
              "its log); PyMongo runs with serverMonitoringMode=poll (no RTT thread), like our "
              "polling monitors. Wake-ups are context switches; a heartbeat costs a monitor 2 "
              "(its deadline, then the reply), so 0.1 heartbeats/s is ~0.2 wake-ups/s per server.",
              "- cursors: the part runs bench/cursor_compare.sh several times; the table gives "
              "the medians of the runs, its section under Runs their min / median / max.",
              "- round_trips: client CPU is the user+sys time of the whole client process (every "
              "driver thread) over the timed operations; the server's is not counted (the same "
              "work for all three). The three drivers run one after the other in each of the "
              "interleaved rounds; the table gives the medians over the rounds, Runs the "
              "spread and the per-round ratios. Wall-clock time is mostly FerretDB's.",
              "- executor: PyMongo's close and wake trials take up to 1 s each, so it runs 40 "
              "trials where we run 1000; its p99 is the worst of 40.",
              "- See bench/README.md for what each benchmark measures and its caveats.", ""]
    (out / "REPORT.md").write_text("\n".join(lines))


def draw_chart(out, rows):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib missing: no chart", file=sys.stderr)
        return
    shown = [r for r in rows if r.headline and r.ratio is not None and r.ratio > 0]
    if not shown:
        return
    labels = [r.headline for r in shown]
    ratios = [r.ratio for r in shown]
    # Colour says only which side of the reference we are; REPORT.md says which goals are met.
    colours = ["#2a9d8f" if r.ratio <= 1 else "#e9a23b" for r in shown]
    fig, ax = plt.subplots(figsize=(9, 0.62 * len(shown) + 1.6))
    y = list(range(len(shown)))
    # Bars grow from 1 (parity): left of it ours is lower, right of it higher.
    ax.barh(y, [r - 1 for r in ratios], left=1, color=colours)
    ax.set_xscale("log")
    ax.axvline(1, color="black", linewidth=1)
    for i, r in enumerate(shown):
        if r.goal_ratio:
            ax.plot([r.goal_ratio] * 2, [i - 0.4, i + 0.4], color="black", linewidth=2.5)
            ax.text(r.goal_ratio, i - 0.42, " goal", fontsize=7, va="bottom")
    ax.set_yticks(y, labels, fontsize=8)
    ax.invert_yaxis()
    for i, r in enumerate(shown):
        if r.ratio < 1:
            ax.text(r.ratio, i, f"{ratio_text(r.ratio)} ", va="center", ha="right", fontsize=8)
        else:  # right of the bar and of its goal mark
            x = max(r.ratio, r.goal_ratio or 0) * 1.05
            ax.text(x, i, f" {ratio_text(r.ratio)}", va="center", ha="left", fontsize=8)
    low, high = min(ratios + [1]), max(ratios + [r.goal_ratio or 1 for r in shown] + [1])
    ax.set_xlim(low / 8, high * 6)
    from matplotlib.patches import Patch
    ax.legend(handles=[Patch(color="#2a9d8f", label="lower than the reference"),
                       Patch(color="#e9a23b", label="higher than the reference")],
              loc="lower right", fontsize=8)
    ax.set_xlabel("mongoslice / reference (log scale; left of 1 = lower than the reference)")
    ax.set_title("mongoslice vs references: headline ratios (lower is better)")
    fig.tight_layout()
    fig.savefig(out / "headline.png", dpi=110)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: report.py RAW_DIR OUT_DIR")
    raw, out = Path(sys.argv[1]), Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    rows_by_part, metas, previous = {}, {}, {}
    for part, rows_of, _ in PARTS:
        data = load(raw / f"{part}.json")
        rows_by_part[part] = rows_of(data) if data else [Row(part, "(not run)", None, "", None)]
        meta = load(raw / f"{part}.meta.json")
        if meta:
            metas[part] = meta
        data, meta = load(raw / f"{part}.previous.json"), load(raw / f"{part}.meta.previous.json")
        if data and meta:
            previous[part] = (rows_of(data), meta)
    write_report(raw, out, rows_by_part, load(raw / "machine.json"), metas, previous)
    draw_chart(out, [r for part, _, _ in PARTS for r in rows_by_part[part]])


if __name__ == "__main__":
    main()
