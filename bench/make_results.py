#!/usr/bin/env python3
"""Builds bench/RESULTS.md from the raw benchmark data under bench/results/.

Every figure on the page is computed here from files kept in the
repository, so the page can be checked against its data at any time:

    bench/make_results.py            rewrite bench/RESULTS.md
    bench/make_results.py --check    exit 1 if it is not what the data gives

Input: one directory per run, bench/results/<run-id>/, written by
scripts/bench: meta.json (machine, versions, command, seed, load order,
"complete") and one cri_load JSON report per load,
<side>.<mode>.r<round>.json (side: one of meta.json's "sides", by default
podsandboxd, podsandboxd-userns, containerd for runs from before "sides"
was recorded; mode: seq, conc), plus, when the run's meta.json lists
"pull" in "parts", one bench/pull_load JSON report per side and pull
round, <side>.pull.r<round>.json (side: podsandboxd, containerd), and
when it lists "pause", pause_task_bench.json (Google Benchmark's JSON),
and when it lists "containers", one bench/container_load JSON report per
side and containers round, <side>.containers.r<round>.json (side:
podsandboxd, containerd).
A podsandboxd load may have metrics/<side>.<mode>.r<round>.{before,after}
.prom: the daemon's histogram _sum/_count lines around the load, from
which the plugins' share of RunPodSandbox is taken out, and (newer runs)
every line of podsandbox_rpc_time_split_seconds, the per-RPC split of
each call's time into own, plugin and runtime, whose buckets give p50s.
A cri_load report may have "run_cpu": the host's and the daemon's CPU
time over its run phase, which says what bounds pods/s. Runs whose
meta.json is not complete are listed and left out.

Statistics: latency percentiles pool every round's samples of a run and
use the nearest rank (as cri_load does), with the sample count beside
them; a p99 over fewer than 100 samples is the maximum and is marked so.
pods/s is the mean over rounds (with the range); memory the median over
rounds (with the range). Ratios are podsandboxd / containerd. Each run
states issue 13's goals beside the figures they are about (GOALS).

Python 3 standard library only.
"""

import argparse
import glob
import json
import math
import os
import re
import statistics
import sys

OURS, USERNS, PEER = "podsandboxd", "podsandboxd-userns", "containerd"
BUILTIN, BUILTIN_USERNS = "podsandboxd-builtin", "podsandboxd-builtin-userns"
NOINFRA_USERNS = "podsandboxd-noinfra-userns"
# The sides of a run whose meta.json has no "sides" (before they were
# chosen), and the order sides are shown in.
SIDES = [OURS, USERNS, PEER]
ALL_SIDES = [OURS, USERNS, BUILTIN, BUILTIN_USERNS, NOINFRA_USERNS, PEER]
SIDE_TITLES = {OURS: "podsandboxd", USERNS: "podsandboxd + userns",
               BUILTIN: "podsandboxd builtin",
               BUILTIN_USERNS: "podsandboxd builtin + userns",
               NOINFRA_USERNS: "podsandboxd infra none + userns",
               PEER: "containerd 1.6"}
RATIO_TITLES = {OURS: "ratio", USERNS: "ratio (userns)",
                BUILTIN: "ratio (builtin)",
                BUILTIN_USERNS: "ratio (builtin + userns)",
                NOINFRA_USERNS: "ratio (infra none + userns)"}
MODES = ["seq", "conc"]
PULL = "pull"
PULL_SIDES = [OURS, PEER]
# The images issue's goal: podsandboxd's pull p50 at most this times
# containerd's.
PULL_GOAL = 0.7
CONTAINERS = "containers"
OURS_CRUN, PEER_CRUN = "podsandboxd-crun", "containerd-crun"
CONTAINER_SIDES = [OURS, PEER]
# The containers part's pairs (podsandboxd side, containerd side, runtime):
# one table each, when the run has both sides.
CONTAINER_PAIRS = [(OURS, PEER, "runc"), (OURS_CRUN, PEER_CRUN, "crun")]
CONTAINER_TITLES = {OURS: "podsandboxd", PEER: "containerd 1.6",
                    OURS_CRUN: "podsandboxd (crun)",
                    PEER_CRUN: "containerd 1.6 (crun)"}
# The runtime binary by hand beside podsandboxd (container_load's floors):
# (series, label, the RPC series it is the floor of).
CONTAINER_FLOORS = [
    ("runtime_create_start", "{rt} create + start by hand, a copy of the "
     "same bundle", "create_start"),
    ("runtime_exec", "{rt} exec by hand, the same process.json", "exec_sync"),
    ("runtime_exec_detach", "{rt} exec --detach by hand until the process "
     "is gone, the same process.json", "exec_sync"),
]
# Issue 16: Create+Start p50 at most the runtime's own + this, ms.
CREATE_START_OVER_FLOOR_MS = 5.0
# Issue 16: host memory per running container beyond its own processes,
# KiB, and as a share of containerd's shim per pod (private dirty).
CONTAINER_MEMORY_GOAL_KIB = 250
CONTAINER_MEMORY_GOAL_SHARE = 0.1
# container_load's series, as the table shows them.
CONTAINER_SERIES = [
    ("create", "CreateContainer"), ("start", "StartContainer"),
    ("create_start", "CreateContainer + StartContainer"),
    ("exec_sync", "ExecSync (`true`)"),
    ("exec_sync_again", "ExecSync (`true`) again, same container"),
    ("stop", "StopContainer (timeout 0)"), ("remove", "RemoveContainer"),
    ("stop_remove", "StopContainer + RemoveContainer"),
    ("pod3_running", "3-container pod, RunPodSandbox to all running"),
]
# Series that runs from before they existed lack (shown when both sides
# have them).
OPTIONAL_CONTAINER_SERIES = {"exec_sync_again"}
# Issue 16's goals, podsandboxd's p50 at most this times containerd's.
CONTAINER_GOALS = {"create_start": 0.9, "stop_remove": 0.5,
                   "exec_sync": 0.7, "pod3_running": 0.75}
RPCS = [("run", "RunPodSandbox"), ("stop", "StopPodSandbox"),
        ("remove", "RemovePodSandbox")]
QUANTILES = [50, 95, 99]
# Below this many samples the nearest-rank p99 is the largest sample.
MIN_SAMPLES_FOR_P99 = 100
# Issue 13's goals, side / containerd: (label, mode, rpc or "pods_per_s",
# bound, "<=" or ">=").
RATIO_GOALS = [
    ("RunPodSandbox p50, one after another", "seq", "run", 0.3, "<="),
    ("RunPodSandbox p50, {workers} workers", "conc", "run", 0.3, "<="),
    ("StopPodSandbox p50, one after another", "seq", "stop", 0.3, "<="),
    ("StopPodSandbox p50, {workers} workers", "conc", "stop", 0.3, "<="),
    ("RemovePodSandbox p50, one after another", "seq", "remove", 0.2, "<="),
    ("RemovePodSandbox p50, {workers} workers", "conc", "remove", 0.2, "<="),
    ("pods/s, {workers} workers", "conc", "pods_per_s", 3.0, ">="),
]
# Our own share of RunPodSandbox (daemon time minus CNI plugin time), ms.
OWN_SHARE_GOAL_MS = 5.0
# The daemon's per-RPC split of each call's time (metrics/exec_ledger.h):
# part "own" (the call's time minus its CNI plugin exec time), "plugin",
# "runtime" (OCI runtime binary execs), per method.
SPLIT_BUCKET = "podsandbox_rpc_time_split_seconds_bucket"
SPLIT_SUM = "podsandbox_rpc_time_split_seconds_sum"
SPLIT_METHODS = {"run": "RunPodSandbox", "stop": "StopPodSandbox",
                 "remove": "RemovePodSandbox"}
SPLIT_PARTS = ("own", "plugin", "runtime")
# The builtin pause start alone (pause_task_bench), ms.
PAUSE_START_GOAL_MS = 3.0
PAUSE_REPORT = "pause_task_bench.json"
# pause_task_bench's benchmark argument: the runtime by index.
PAUSE_RUNTIMES = ["runc", "crun", "builtin"]
NUMBER_WORDS = {2: "two", 4: "four", 6: "six", 8: "eight", 10: "ten",
                12: "twelve"}

HERE = os.path.dirname(os.path.abspath(__file__))


def percentile(samples, q):
    """Nearest rank: the smallest sample with at least q% of all <= it."""
    if not samples:
        return float("nan")
    s = sorted(samples)
    rank = math.ceil(q / 100.0 * len(s))
    return s[max(rank, 1) - 1]


def ratio(a, b):
    return a / b if b else float("nan")


def run_sides(meta):
    """The pods part's sides of a run, in display order."""
    return [s for s in ALL_SIDES if s in meta.get("sides", SIDES)]


def parse_prom(text):
    """{(name, frozenset of (label, value))}: value} of Prometheus text."""
    out = {}
    for line in text.splitlines():
        m = re.match(r'^([A-Za-z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)$', line)
        if not m:
            continue
        labels = frozenset(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"',
                                      m.group(2) or ""))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


def prom_total(series, name, **want):
    """The sum of every series of `name` whose labels include `want`."""
    return sum(v for (n, labels), v in series.items()
               if n == name and set(want.items()) <= labels)


def split_deltas(before, after):
    """{(method, part): {le: calls, "sum": seconds}}: the per-RPC split
    histogram's cumulative bucket counts and sum over a load (after minus
    before); empty when the daemon had no such histogram."""
    out = {}
    for (name, labels), value in after.items():
        if name not in (SPLIT_BUCKET, SPLIT_SUM):
            continue
        d = dict(labels)
        key = (d.get("method"), d.get("part"))
        slot = float(d["le"]) if name == SPLIT_BUCKET else "sum"
        out.setdefault(key, {})[slot] = value - before.get((name, labels), 0)
    return out


def bucket_quantile(cumulative, q):
    """The q-th percentile of a histogram given as {upper bound: calls at
    or below it} (cumulative, +Inf last), interpolated linearly inside the
    bucket it falls in, the first bucket starting at 0 (Prometheus'
    histogram_quantile). NaN without calls."""
    bounds = sorted((le, n) for le, n in (cumulative or {}).items()
                    if le != "sum")
    if not bounds or bounds[-1][1] <= 0:
        return float("nan")
    rank = q / 100.0 * bounds[-1][1]
    prev_le, prev_count = 0.0, 0.0
    for le, count in bounds:
        if count >= rank:
            if math.isinf(le):
                return prev_le
            if count == prev_count:
                return le
            return prev_le + (le - prev_le) * (rank - prev_count) / (
                count - prev_count)
        prev_le, prev_count = le, count
    return prev_le


def load_metrics(run_dir):
    """{(side, mode): [per-load deltas]} from metrics/*.{before,after}.prom:
    RunPodSandbox's count and seconds in the daemon, the CNI plugins' ADD
    seconds and the runtime's create+start seconds over each load, and the
    per-RPC split's bucket counts."""
    out = {}
    for after_path in sorted(glob.glob(os.path.join(run_dir, "metrics",
                                                    "*.after.prom"))):
        before_path = after_path[:-len(".after.prom")] + ".before.prom"
        if not os.path.exists(before_path):
            continue
        side, mode, _ = os.path.basename(after_path)[
            :-len(".after.prom")].rsplit(".", 2)
        with open(before_path) as f:
            before = parse_prom(f.read())
        with open(after_path) as f:
            after = parse_prom(f.read())

        def delta(name, **want):
            return (prom_total(after, name, **want) -
                    prom_total(before, name, **want))
        runtime = "podsandbox_runtime_command_duration_seconds_sum"
        out.setdefault((side, mode), []).append({
            "run_count": delta("podsandbox_rpc_duration_seconds_count",
                               method="RunPodSandbox"),
            "run_s": delta("podsandbox_rpc_duration_seconds_sum",
                           method="RunPodSandbox"),
            "plugin_add_s": delta(
                "podsandbox_cni_plugin_exec_duration_seconds_sum",
                command="ADD"),
            "runtime_s": (delta(runtime, verb="create") +
                          delta(runtime, verb="start")),
            "split": split_deltas(before, after),
        })
    return out


def load_runs(results_dir):
    """(complete runs, incomplete runs), each a list of dicts, newest first."""
    complete, incomplete = [], []
    for meta_path in sorted(glob.glob(os.path.join(results_dir, "*",
                                                   "meta.json")),
                            reverse=True):
        run_dir = os.path.dirname(meta_path)
        with open(meta_path) as f:
            meta = json.load(f)
        loads = {}
        for path in sorted(glob.glob(os.path.join(run_dir, "*.r*.json"))):
            side, mode, _ = os.path.basename(path)[:-len(".json")].rsplit(
                ".", 2)
            with open(path) as f:
                loads.setdefault((side, mode), []).append(json.load(f))
        run = {"id": os.path.basename(run_dir), "meta": meta, "loads": loads,
               "metrics": load_metrics(run_dir), "pause": None}
        expected = len(run_sides(meta)) * len(MODES) * meta.get("rounds", 0)
        if meta.get("pull"):
            expected += len(PULL_SIDES) * meta["pull"]["rounds"]
        if meta.get("containers"):
            # Each round's order names its sides (crun's only when
            # installed; two in runs from before crun).
            expected += sum(len(o) for o in meta["containers"]["order"])
        got = sum(len(v) for v in loads.values())
        if "pause" in meta.get("parts", []):
            expected += 1
            pause_path = os.path.join(run_dir, PAUSE_REPORT)
            if os.path.exists(pause_path):
                with open(pause_path) as f:
                    run["pause"] = json.load(f)
                got += 1
        run["load_count"], run["expected_loads"] = got, expected
        if meta.get("complete") and got == expected:
            complete.append(run)
        else:
            incomplete.append(run)
    return complete, incomplete


def summarize(reports):
    """Pooled statistics of one side and mode over a run's rounds."""
    out = {"errors": sum(r["errors"] for r in reports),
           "rounds": len(reports)}
    for rpc, _ in RPCS:
        pooled = [x for r in reports for x in r["samples_ms"][rpc]]
        out[rpc] = {q: percentile(pooled, q) for q in QUANTILES}
        out[rpc]["n"] = len(pooled)
    rates = [r["pods_per_s"] for r in reports]
    out["pods_per_s"] = (statistics.mean(rates), min(rates), max(rates))
    cpu = [r["run_cpu"] for r in reports if "run_cpu" in r]
    pods = sum(len(r["samples_ms"]["run"]) for r in reports)
    if cpu and len(cpu) == len(reports) and pods:
        def per_pod(key):
            return 1000 * sum(c[key] for c in cpu) / pods
        total = sum(c["host_total_s"] for c in cpu)
        out["cpu"] = {
            "cpus": cpu[0]["cpus"], "pods": pods,
            "busy": (sum(c["host_busy_s"] for c in cpu) / total
                     if total else float("nan")),
            "host_ms": per_pod("host_busy_s"),
            "daemon_ms": per_pod("daemon_self_s"),
            "children_ms": per_pod("daemon_children_s"),
        }
    mem = [r["memory"] for r in reports if "memory" in r]
    if mem:
        def med(values):
            values = list(values)
            return (statistics.median(values), min(values), max(values))
        out["mem"] = {
            "per_pod": med(m["per_pod_kib"] for m in mem),
            "processes": med(m["pod_processes_pss_kib"] / m["pods"]
                             for m in mem),
            "growth": med(m["daemon_growth_kib"] / m["pods"] for m in mem),
            "procs_per_pod": med(m["processes"] / m["pods"] for m in mem),
            "pods": mem[0]["pods"],
            "rounds": len(mem),
        }
        # Host-wide kernel memory (newer cri_load reports), when every round
        # has it.
        kern = [m for m in mem if "kernel" in m]
        if kern and len(kern) == len(mem):
            def kernel_delta(m, field):
                k = m["kernel"]
                return (k["after"][field] - k["before"][field]) / m["pods"]
            out["mem"]["kernel"] = med(m["kernel"]["per_pod_kib"]
                                       for m in kern)
            out["mem"]["kernel_reclaimable"] = med(
                kernel_delta(m, "slab_reclaimable_kib") for m in kern)
            out["mem"]["host"] = med(m["per_pod_kib"] +
                                     m["kernel"]["per_pod_kib"] for m in kern)
            if all(m["kernel"]["cgroups_before"] >= 0 and
                   m["kernel"]["cgroups_after"] >= 0 for m in kern):
                out["mem"]["cgroups"] = med(
                    (m["kernel"]["cgroups_after"] -
                     m["kernel"]["cgroups_before"]) / m["pods"]
                    for m in kern)
    return out


def summarize_pulls(reports):
    """Pooled pull statistics of one side over a run's pull rounds."""
    pulls = [x for r in reports for x in r["samples_ms"]["pull"]]
    removes = [x for r in reports for x in r["samples_ms"]["remove"]]
    out = {"errors": sum(r["errors"] for r in reports),
           "rounds": len(reports), "n": len(pulls),
           "pull": {q: percentile(pulls, q) for q in (50, 95)},
           "max": max(pulls) if pulls else float("nan"),
           "remove_p50": percentile(removes, 50)}
    mem = [r["memory"] for r in reports if "memory" in r]
    if mem:
        growth = [m["daemon_peak_kib"] - m["daemon_before_kib"] for m in mem]
        out["growth"] = (statistics.median(growth), min(growth), max(growth))
    return out


def summarize_containers(reports):
    """Pooled container_load statistics of one side over a run's rounds;
    the floors (by hand) only when the reports have samples of them, and
    the memory figures (median over rounds) when they have stages."""
    out = {"errors": sum(r["errors"] for r in reports),
           "rounds": len(reports)}
    series = [x for x, _ in CONTAINER_SERIES] + [x for x, _, _ in
                                                 CONTAINER_FLOORS]
    for name in series:
        pooled = [x for r in reports for x in r["samples_ms"].get(name, [])]
        if not pooled and (name not in dict(CONTAINER_SERIES) or
                           name in OPTIONAL_CONTAINER_SERIES):
            continue
        out[name] = {q: percentile(pooled, q) for q in QUANTILES}
        out[name]["n"] = len(pooled)
    mem = [container_memory(r["memory"]) for r in reports if r.get("memory")]
    if mem:
        out["memory"] = {k: (statistics.median(m[k] for m in mem),
                             min(m[k] for m in mem), max(m[k] for m in mem))
                         for k in mem[0]}
        out["memory_rounds"] = len(mem)
        out["memory_pods"] = reports[0]["memory"]["pods"]
    return out


def container_memory(memory):
    """Per pod and per container figures of one container_load memory
    report: its stages before, pods (N pods), containers1 and containers2
    (one, then two containers in each)."""
    st = {x["stage"]: x for x in memory["stages"]}
    before, pods, last = st["before"], st["pods"], st["containers2"]
    n = memory["pods"]
    c = n * memory["containers_per_pod"]

    def per_pod(key, stage=pods):
        return (stage[key] - before[key]) / n

    def per_ctr(key):
        return (last[key] - pods[key]) / c

    def beyond(x):
        # Processes that are neither a pause nor a container's command.
        return x["shims"] + x["other_processes"]
    daemon_ctr = per_ctr("daemon_private_dirty_kib")
    shim_ctr = per_ctr("shims_private_dirty_kib")
    other_ctr = per_ctr("other_private_dirty_kib")
    return {
        "pod_daemon_pd": per_pod("daemon_private_dirty_kib"),
        "pod_shims": pods["shims"] / n,
        "pod_shim_pd": pods["shims_private_dirty_kib"] / n,
        "pod_shim_pss": pods["shims_pss_kib"] / n,
        "pod_procs_beyond": (beyond(pods) - beyond(before)) / n,
        "pod_overlays": per_pod("overlay_mounts"),
        "ctr_daemon_pd": daemon_ctr,
        "ctr_daemon_pss": per_ctr("daemon_pss_kib"),
        "ctr_shim_pd": shim_ctr,
        "ctr_host_pd": daemon_ctr + shim_ctr + other_ctr,
        "ctr_procs_beyond": (beyond(last) - beyond(pods)) / c,
        "ctr_pipes": per_ctr("pipe_fds") + per_ctr("fifo_fds"),
        "ctr_overlays": per_ctr("overlay_mounts"),
    }


# The memory table's rows: (key, label, digits).
CONTAINER_MEMORY_ROWS = [
    ("pod_shims", "shim processes per pod", 1),
    ("pod_procs_beyond", "processes per pod beyond its pause", 1),
    ("pod_shim_pd", "shims' private dirty per pod (KiB)", 0),
    ("pod_shim_pss", "shims' PSS per pod (KiB)", 0),
    ("pod_daemon_pd", "daemon private dirty growth per pod (KiB)", 0),
    ("pod_overlays", "overlay mounts per pod", 1),
    ("ctr_procs_beyond", "processes per container beyond its own", 1),
    ("ctr_daemon_pd", "daemon private dirty growth per container (KiB)", 0),
    ("ctr_daemon_pss", "daemon PSS growth per container (KiB)", 0),
    ("ctr_shim_pd", "shims' private dirty growth per container (KiB)", 0),
    ("ctr_host_pd", "host memory per container beyond its own processes "
     "(daemon + shims + other processes, private dirty, KiB)", 0),
    ("ctr_pipes", "pipe and FIFO fds per container (daemon and shims)", 1),
    ("ctr_overlays", "overlay mounts per container", 1),
]


def containers_table(run, stats, ours=OURS, peer=PEER, runtime="runc"):
    """One runtime's table: podsandboxd's handler beside containerd on the
    same runtime binary, with the binary's own time by hand."""
    meta = run["meta"]
    ctr = meta["containers"]
    sides = [ours, peer]
    if runtime == "runc":
        what = ("podsandboxd's runc handler beside containerd on runc")
        title = f"#### Containers: {ctr['image']}"
    else:
        what = (f"podsandboxd's {runtime} handler beside containerd's "
                f"io.containerd.runc.v2 shim with BinaryName {runtime}")
        title = f"#### Containers on {runtime}: {ctr['image']}"
    rows = [title, "",
            f"`bench/container_load`, {what}; "
            f"{ctr['rounds']} round{'s' if ctr['rounds'] != 1 else ''} of "
            f"{ctr['iterations']} iterations per "
            "daemon after one warm-up iteration, the daemons in a random "
            "order each round. An iteration: a pod with one `busybox sleep "
            "3600` container (create, start, ExecSync `busybox true`, stop "
            "with timeout 0, remove, each timed client-side), then a pod of "
            "three such containers timed from RunPodSandbox to the third "
            "StartContainer's return. Goals (issue 16): podsandboxd's p50 at "
            "most the bound times containerd's.", "",
            "| metric | " + " | ".join(CONTAINER_TITLES[s] for s in sides) +
            " | ratio | goal |",
            "|---|" + "---:|" * (len(sides) + 1) + "---|"]
    get = {s: stats.get(s) for s in sides}
    if not all(get.values()):
        return rows + ["| (missing loads) |" + " |" * (len(sides) + 2), ""]
    a, c = get[ours], get[peer]
    floors = {}
    for name, label, rpc in CONTAINER_FLOORS:
        if name in a:
            floors.setdefault(rpc, []).append(
                (name, label.format(rt=runtime)))
    for series, label in CONTAINER_SERIES:
        if not all(series in get[s] for s in sides):
            continue
        rows.append(f"| {label} samples (n) | " +
                    " | ".join(str(get[s][series]["n"]) for s in sides) +
                    " | | |")
        for q in QUANTILES:
            r = ratio(a[series][q], c[series][q])
            goal = ""
            if q == 50 and series in CONTAINER_GOALS:
                bound = CONTAINER_GOALS[series]
                goal = f"<= {bound:g}x, {verdict(r <= bound)}"
            cells = [fmt_ms(get[s][series][q], get[s][series]["n"], q)
                     for s in sides]
            rows.append(f"| {label} p{q} (ms) | " + " | ".join(cells) +
                        f" | {r:.2f}x | {goal} |")
        for name, floor_label in floors.get(series, []):
            f = a[name]
            over = a[series][50] - f[50]
            goal = ""
            if series == "create_start":
                goal = (f"<= {CREATE_START_OVER_FLOOR_MS:g} ms, "
                        f"{verdict(over <= CREATE_START_OVER_FLOOR_MS)}")
            mark = ("" if len(floors[series]) == 1 else
                    " --detach" if "detach" in name else " (waiting itself)")
            rows += [f"| {floor_label} (n) | {f['n']} | | | |",
                     f"| {floor_label} p50 (ms) | {f[50]:.1f} | | | |",
                     f"| {label} p50 over {runtime}'s own{mark} (ms) | "
                     f"{over:.1f} | | | {goal} |"]
    rows.append("| RPC errors | " +
                " | ".join(str(get[s]["errors"]) for s in sides) + " | | |")
    return rows + [""] + exec_bound(a, c, runtime)


def exec_bound(a, c, runtime):
    """What bounds ExecSync's goal when it is not met: the runtime's own
    exec (by hand, not the container's first) against the goal, and what
    being the container's first exec adds."""
    bound = CONTAINER_GOALS["exec_sync"]
    ours, peer = a["exec_sync"][50], c["exec_sync"][50]
    if ratio(ours, peer) <= bound or "runtime_exec" not in a:
        return []
    own = min(a[name][50] for name in ("runtime_exec", "runtime_exec_detach")
              if name in a)
    text = (f"ExecSync goal not met ({runtime}): {bound:g}x containerd's "
            f"{peer:.1f} ms is {bound * peer:.1f} ms; {runtime}'s own exec "
            f"by hand (the faster of waiting itself and --detach, not the "
            f"container's first exec) is {own:.1f} ms, "
            f"{ratio(own, peer):.2f}x containerd's ExecSync")
    if "exec_sync_again" in a and "exec_sync_again" in c:
        again, peer_again = a["exec_sync_again"][50], c["exec_sync_again"][50]
        text += (f". A second ExecSync in the same container takes "
                 f"{again:.1f} ms ({ratio(again, peer_again):.2f}x "
                 f"containerd's {peer_again:.1f}), {again - own:.1f} ms over "
                 f"{runtime}'s own; the container's first exec "
                 f"{ours - again:.1f} ms more (containerd's "
                 f"{peer - peer_again:.1f} ms more; a pause before it "
                 "makes every side's first exec slower, see the method "
                 "notes)")
    return [text + ".", ""]


def container_memory_table(run, stats):
    """Host memory and processes per pod and per running container."""
    sides = [s for ours, peer, _ in CONTAINER_PAIRS for s in (ours, peer)
             if (stats.get(s) or {}).get("memory")]
    if not sides:
        return []
    any_side = stats[sides[0]]
    rows = ["#### Host memory per pod and per running container", "",
            f"`bench/container_load --memory_pods`: after each round's "
            f"iterations {any_side['memory_pods']} pods, then one and a "
            "second `busybox sleep 3600` container in each, all alive at "
            "once; at each stage the daemon's PSS and private dirty memory "
            "(/proc/PID/smaps_rollup), the processes below the daemon and "
            "containerd's shims (told apart from each pod's pause and each "
            "container's own process by their command line), the shims' "
            "memory, the daemon's and shims' pipe and FIFO fds, and the "
            "host's overlay mounts. Per pod: pods stage minus before, over "
            "the pods; per container: two containers per pod minus the pods "
            "stage, over the containers. Median over "
            f"{any_side['memory_rounds']} round"
            f"{'s' if any_side['memory_rounds'] != 1 else ''} (range). "
            "Counted as kernel objects: pipe and FIFO fds and overlay mounts; "
            "left out: their kernel memory (a pipe's buffer pages exist only "
            "while unread output sits in it; inode, dentry and mount slab), "
            "cgroups and namespaces (the runtime binary makes the same ones "
            "for both daemons), and the small files each container keeps on "
            "tmpfs (bundle config.json, the runtime's state.json, the "
            "daemon's record).", "",
            "| per pod / per container | " +
            " | ".join(CONTAINER_TITLES[s] for s in sides) + " |",
            "|---|" + "---:|" * len(sides)]
    for key, label, digits in CONTAINER_MEMORY_ROWS:
        rows.append(f"| {label} | " + " | ".join(
            fmt_range(stats[s]["memory"][key], digits) for s in sides) + " |")
    # The goal: ours per container against 250 KiB and 0.1x containerd's
    # shim per pod (private dirty), and no process per pod or container.
    for ours, peer, runtime in CONTAINER_PAIRS:
        if ours not in sides:
            continue
        m = stats[ours]["memory"]
        host = m["ctr_host_pd"][0]
        bound = CONTAINER_MEMORY_GOAL_KIB
        share = ""
        if peer in sides:
            shim = stats[peer]["memory"]["pod_shim_pd"][0]
            bound = min(bound, CONTAINER_MEMORY_GOAL_SHARE * shim)
            share = (f" (0.1x containerd's shim per pod: "
                     f"{CONTAINER_MEMORY_GOAL_SHARE * shim:.0f} KiB)")
        procs = m["pod_procs_beyond"][0] + m["ctr_procs_beyond"][0]
        rows.append("")
        rows.append(
            f"Goal ({runtime}): host memory per running container beyond its "
            f"own processes <= {CONTAINER_MEMORY_GOAL_KIB} KiB{share}: "
            f"{host:.0f} KiB, {verdict(host <= bound)}; no process per pod "
            f"or container beyond the pause and the container's own: "
            f"{procs:g}, {verdict(procs == 0)}.")
    return rows + [""]


def pull_table(run, stats):
    meta = run["meta"]
    pull = meta["pull"]
    built = pull.get("built") or {}
    mb = built.get("compressed_bytes", 0) / 1e6
    layers = "; ".join(l["packages"] for l in built.get("layers", []))
    rows = [f"#### Image pull: {pull['image']}", "",
            f"{mb:.1f} MB compressed in {len(built.get('layers', []))} gzip "
            f"layers ({layers}), from a docker-registry on loopback; "
            f"{pull['rounds']} rounds of {pull['pulls']} cold pulls per "
            "daemon, each after a RemoveImage, after one warm-up pull.", "",
            "| metric | " + " | ".join(SIDE_TITLES[s] for s in PULL_SIDES) +
            " | ratio |",
            "|---|" + "---:|" * (len(PULL_SIDES) + 1)]
    get = {s: stats.get(s) for s in PULL_SIDES}
    if not all(get.values()):
        return rows + ["| (missing loads) |" + " |" * (len(PULL_SIDES) + 1),
                       ""]
    a, c = get[OURS], get[PEER]
    rows.append("| PullImage samples (n) | " +
                " | ".join(str(get[s]["n"]) for s in PULL_SIDES) + " | |")
    for q in (50, 95):
        rows.append(f"| PullImage p{q} (ms) | " +
                    " | ".join(f"{get[s]['pull'][q]:.0f}"
                               for s in PULL_SIDES) +
                    f" | {ratio(a['pull'][q], c['pull'][q]):.2f}x |")
    rows.append("| PullImage max (ms) | " +
                " | ".join(f"{get[s]['max']:.0f}" for s in PULL_SIDES) +
                f" | {ratio(a['max'], c['max']):.2f}x |")
    rows.append("| RemoveImage p50 (ms) | " +
                " | ".join(f"{get[s]['remove_p50']:.1f}"
                           for s in PULL_SIDES) +
                f" | {ratio(a['remove_p50'], c['remove_p50']):.2f}x |")
    if all("growth" in get[s] for s in PULL_SIDES):
        rows.append("| daemon PSS growth at its peak during a pull (KiB), "
                    "median of rounds (range) | " +
                    " | ".join(fmt_range(get[s]["growth"], 0)
                               for s in PULL_SIDES) +
                    f" | {ratio(a['growth'][0], c['growth'][0]):.2f}x |")
    rows.append("| RPC errors | " +
                " | ".join(str(get[s]["errors"]) for s in PULL_SIDES) +
                " | |")
    goal = ratio(a["pull"][50], c["pull"][50])
    rows += ["", f"Goal: podsandboxd's pull p50 at most {PULL_GOAL}x "
             f"containerd's; measured {goal:.2f}x "
             f"({'met' if goal <= PULL_GOAL else 'not met'}).", ""]
    return rows


def fmt_ms(value, n, q):
    text = f"{value:.1f}"
    if q == 99 and n < MIN_SAMPLES_FOR_P99:
        text += " (max)"
    return text


def fmt_range(triple, digits):
    mid, lo, hi = triple
    return f"{mid:.{digits}f} ({lo:.{digits}f}-{hi:.{digits}f})"


def mode_table(run, mode, stats):
    meta = run["meta"]
    sides = run_sides(meta)
    # Ratio columns only when containerd is there to divide by.
    ratio_sides = [x for x in sides if x != PEER] if PEER in sides else []
    if mode == "seq":
        title = f"{meta['seq_pods']} pods one after another"
    else:
        title = (f"{meta['conc_pods']} pods, {meta['workers']} workers in "
                 "parallel")
    blank = " |" * len(ratio_sides)
    rows = [f"#### {title}", "",
            "| metric | " + " | ".join(SIDE_TITLES[x] for x in sides) + " |" +
            "".join(f" {RATIO_TITLES[x]} |" for x in ratio_sides),
            "|---|" + "---:|" * (len(sides) + len(ratio_sides))]
    get = {x: stats.get((x, mode)) for x in sides}
    if not all(get.values()):
        return rows + ["| (missing loads) |" + " |" * (len(sides) +
                                                       len(ratio_sides)), ""]

    def ratios(fn, digits=2):
        return "".join(f" {ratio(fn(x), fn(PEER)):.{digits}f}x |"
                       for x in ratio_sides)
    for rpc, label in RPCS:
        rows.append(f"| {label} samples (n) | " +
                    " | ".join(str(get[x][rpc]["n"]) for x in sides) + " |" +
                    blank)
        for q in QUANTILES:
            cells = [fmt_ms(get[x][rpc][q], get[x][rpc]["n"], q)
                     for x in sides]
            rows.append(f"| {label} p{q} (ms) | " + " | ".join(cells) + " |" +
                        ratios(lambda x: get[x][rpc][q]))
    rows.append("| pods/s, mean of rounds (range) | " +
                " | ".join(fmt_range(get[x]["pods_per_s"], 2)
                           for x in sides) + " |" +
                ratios(lambda x: get[x]["pods_per_s"][0]))
    if all("mem" in get[x] for x in sides):
        for key, label in (
                ("per_pod", "host memory per pod (KiB PSS: processes + "
                 "daemon growth), median of rounds (range)"),
                ("processes", "  of which the pod's processes (KiB)"),
                ("growth", "  of which daemon growth (KiB)")):
            rows.append(f"| {label} | " +
                        " | ".join(fmt_range(get[x]["mem"][key], 0)
                                   for x in sides) + " |" +
                        ratios(lambda x: get[x]["mem"][key][0], 3))
        rows.append("| processes per pod | " +
                    " | ".join(f"{get[x]['mem']['procs_per_pod'][0]:g}"
                               for x in sides) + " |" + blank)
        rows += kernel_rows(sides, ratio_sides,
                            {x: get[x]["mem"] for x in sides})
    rows.append("| RPC errors | " +
                " | ".join(str(get[x]["errors"]) for x in sides) + " |" +
                blank)
    return rows + [""]


def pooled_split(deltas):
    """The per-RPC split's buckets summed over loads: {(method, part):
    {le: calls}}."""
    out = {}
    for d in deltas:
        for key, buckets in d.get("split", {}).items():
            pooled = out.setdefault(key, {})
            for le, count in buckets.items():
                pooled[le] = pooled.get(le, 0) + count
    return out


def own_share(run, stats):
    """{(side, mode): figures} of our own share of RunPodSandbox, from the
    metrics around each load, for the podsandboxd sides that have them:
    means from the RPC and plugin histograms' sums, and, when the daemon
    recorded the per-RPC split, p50s per RPC and part ("<rpc>_<part>_p50_ms"
    for rpc in run, stop, remove and part in own, plugin, runtime)."""
    out = {}
    for (side, mode), deltas in run["metrics"].items():
        count = sum(d["run_count"] for d in deltas)
        if not count:
            continue
        run_ms = 1000 * sum(d["run_s"] for d in deltas) / count
        plugin_ms = 1000 * sum(d["plugin_add_s"] for d in deltas) / count
        runtime_ms = 1000 * sum(d["runtime_s"] for d in deltas) / count
        client = stats.get((side, mode))
        out[(side, mode)] = {
            "n": int(count), "loads": len(deltas), "run_ms": run_ms,
            "plugin_ms": plugin_ms, "runtime_ms": runtime_ms,
            "own_ms": run_ms - plugin_ms,
            "client_p50_minus_plugin_ms": (client["run"][50] - plugin_ms
                                           if client else float("nan")),
        }
        split = pooled_split(deltas)
        for rpc, method in SPLIT_METHODS.items():
            for part in SPLIT_PARTS:
                buckets = split.get((method, part))
                if buckets:
                    # A part no call spent time in (a builtin handler's
                    # runtime binaries) is 0, not half the first bucket.
                    out[(side, mode)][f"{rpc}_{part}_p50_ms"] = (
                        0.0 if buckets.get("sum", 1) == 0 else
                        1000 * bucket_quantile(buckets, 50))
    return out


def has_split(shares):
    return any("run_own_p50_ms" in sh for sh in shares.values())


def own_share_table(run, shares):
    split = has_split(shares)
    rows = ["#### Our own share of RunPodSandbox", "",
            "From podsandboxd's metrics around each of its loads: the "
            "RunPodSandbox time it records (receipt to answer) minus its CNI "
            "plugins' ADD exec time, over the same RPCs (the warm-up pod "
            "included)." +
            (" The daemon records that split per call (its own time, the "
             "plugins' and the runtime binaries'), so each p50 is over the "
             "calls' own figures, read from the split's 0.5 ms buckets "
             "(interpolated inside a bucket); the means come from the "
             "histograms' sums." if split else
             " The daemon does not record plugin time per RPC, so these are "
             "means per RunPodSandbox, not p50s; the last column puts the "
             "client-side p50 beside the mean plugin time as a second "
             "estimate."), ""]
    header = ("| side | mode | RunPodSandbox (n) | daemon time, mean (ms) | "
              "CNI plugin ADD, mean (ms) | runtime create+start, mean (ms) | "
              "own share, mean (ms) | client p50 minus plugin mean (ms) |")
    align = "|---|---|---:|---:|---:|---:|---:|---:|"
    if split:
        header += (" own share p50 (ms) | plugins p50 (ms) | StopPodSandbox "
                   "own p50 (ms) | StopPodSandbox plugins p50 (ms) |")
        align += "---:|---:|---:|---:|"
    rows += [header, align]
    for side in run_sides(run["meta"]):
        for mode in MODES:
            sh = shares.get((side, mode))
            if not sh:
                continue
            row = (f"| {SIDE_TITLES[side]} | {mode} | {sh['n']} | "
                   f"{sh['run_ms']:.1f} | {sh['plugin_ms']:.1f} | "
                   f"{sh['runtime_ms']:.1f} | {sh['own_ms']:.1f} | "
                   f"{sh['client_p50_minus_plugin_ms']:.1f} |")
            if split:
                row += "".join(
                    f" {sh[k]:.1f} |" if k in sh else " n/a |"
                    for k in ("run_own_p50_ms", "run_plugin_p50_ms",
                              "stop_own_p50_ms", "stop_plugin_p50_ms"))
            rows.append(row)
    return rows + [""]


def pause_summary(report):
    """{(benchmark, runtime): figures} from pause_task_bench's JSON: the
    median, min and max over repetitions of the mean time per iteration
    (Google Benchmark keeps no single-iteration times), in ms."""
    scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}
    times, errors = {}, {}
    for b in report.get("benchmarks", []):
        if b.get("run_type", "iteration") != "iteration":
            continue
        name = b.get("run_name", b["name"])
        # "BM_X/runc_crun_builtin:2/iterations:30/real_time": the runtime's
        # index is the first argument's value; later parts are options.
        base, _, rest = name.partition("/")
        arg = rest.split("/", 1)[0]
        index = int(arg.rsplit(":", 1)[1]) if ":" in arg else 0
        key = (base, PAUSE_RUNTIMES[index])
        if b.get("error_occurred"):
            errors[key] = b.get("error_message", "error")
            continue
        times.setdefault(key, []).append(
            b["real_time"] * scale[b.get("time_unit", "ns")])
    out = {}
    for key in set(times) | set(errors):
        t = times.get(key, [])
        out[key] = {"reps": len(t), "error": errors.get(key),
                    "median": statistics.median(t) if t else float("nan"),
                    "min": min(t) if t else float("nan"),
                    "max": max(t) if t else float("nan")}
    return out


PAUSE_ROWS = [
    ("BM_CreateStart_Ours", "our Start (create+start)"),
    ("BM_CreateStart_ByHand", "runtime binary create+start by hand"),
    ("BM_KillDelete_Ours", "our Stop+Delete"),
    ("BM_KillDelete_ByHand", "runtime binary kill+delete by hand"),
]


def pause_table(run, summary):
    reps = run["meta"]["pause"]["repetitions"]
    rows = ["#### The pause alone: bench/pause_task_bench", "",
            f"A host-network pod without a user namespace, {reps} "
            "repetitions; each figure is the median over repetitions of "
            "the mean time per start or stop in that repetition, in ms "
            "(min-max of the repetitions).", "",
            "| what | " + " | ".join(PAUSE_RUNTIMES[::-1]) + " |",
            "|---|" + "---:|" * len(PAUSE_RUNTIMES)]
    for bench, label in PAUSE_ROWS:
        cells = []
        for runtime in PAUSE_RUNTIMES[::-1]:
            f = summary.get((bench, runtime))
            if f is None:
                cells.append("-")
            elif f["error"]:
                cells.append(f"error: {f['error']}")
            else:
                cells.append(f"{f['median']:.2f} ({f['min']:.2f}-"
                             f"{f['max']:.2f})")
        rows.append(f"| {label} | " + " | ".join(cells) + " |")
    return rows + [""]


# Kernel memory rows of the one-after-another table: (key, label, digits,
# with a ratio).
KERNEL_ROWS = [
    ("kernel", "kernel memory per pod (KiB: slab + percpu + kernel stacks + "
     "page tables + shmem, host-wide growth), median of rounds (range)", 0,
     True),
    ("kernel_reclaimable", "  of which reclaimable slab (KiB: dentries and "
     "inodes, which other file activity moves too)", 0, False),
    ("host", "host memory per pod, PSS + kernel (KiB)", 0, True),
    ("cgroups", "memory cgroups per pod", 1, False),
]


def kernel_rows(sides, ratio_sides, mem):
    """The kernel memory rows, when any side has the figures (a run from
    before they were read has none, and its table stays as it was); "-"
    for a side without them."""
    rows = []
    for key, label, digits, with_ratio in KERNEL_ROWS:
        if not any(key in mem[x] for x in sides):
            continue
        cells = [fmt_range(mem[x][key], digits) if key in mem[x] else "-"
                 for x in sides]
        ratios = ""
        for x in ratio_sides:
            if not with_ratio:
                ratios += " |"
            elif key in mem[x] and key in mem[PEER]:
                ratios += f" {ratio(mem[x][key][0], mem[PEER][key][0]):.3f}x |"
            else:
                ratios += " - |"
        rows.append(f"| {label} | " + " | ".join(cells) + " |" + ratios)
    return rows


def verdict(met):
    return "met" if met else "**not met**"


def goals_table(run, stats, shares, pause):
    """Issue 13's goals, each beside its figure, per podsandboxd side."""
    meta = run["meta"]
    sides = [x for x in run_sides(meta) if x != PEER]
    workers = meta["workers"]
    rows = ["#### Issue 13 goals", ""]
    if pause is not None:
        f = pause.get(("BM_CreateStart_Ours", "builtin"))
        if f and not f["error"] and f["reps"]:
            rows += [f"Builtin pause start alone (pause_task_bench, our "
                     f"Start with the builtin handler) <= "
                     f"{PAUSE_START_GOAL_MS:g} ms p50: {f['median']:.2f} ms, "
                     "the median of the repetitions' means, "
                     f"{verdict(f['median'] <= PAUSE_START_GOAL_MS)}.", ""]
        else:
            rows += ["Builtin pause start alone: no figure "
                     f"({(f or {}).get('error') or 'not in the report'}).",
                     ""]
    if "pods" not in meta.get("parts", ["pods"]) or not sides:
        return rows
    rows += ["Each figure is the side's / containerd's (ratios) or the "
             "side's own (ms, processes), from the tables of this run.", "",
             "| goal | " + " | ".join(SIDE_TITLES[x] for x in sides) + " |",
             "|---|" + "---|" * len(sides)]
    for label, mode, what, bound, sense in RATIO_GOALS:
        cells = []
        for x in sides:
            a, c = stats.get((x, mode)), stats.get((PEER, mode))
            if not a or not c:
                cells.append("n/a")
                continue
            if what == "pods_per_s":
                value = ratio(a[what][0], c[what][0])
            else:
                value = ratio(a[what][50], c[what][50])
            met = value <= bound if sense == "<=" else value >= bound
            cells.append(f"{value:.2f}x, {verdict(met)}")
        rows.append(f"| {label.format(workers=workers)} {sense} {bound:g}x | " +
                    " | ".join(cells) + " |")
    cells, means = [], False
    for x in sides:
        sh = shares.get((x, "seq"))
        if not sh:
            cells.append("n/a (no metrics)")
        elif "run_own_p50_ms" in sh:
            own = sh["run_own_p50_ms"]
            cells.append(f"{own:.1f} ms (p50), "
                         f"{verdict(own <= OWN_SHARE_GOAL_MS)}")
        else:
            means = True
            cells.append(f"{sh['own_ms']:.1f} ms (mean), "
                         f"{verdict(sh['own_ms'] <= OWN_SHARE_GOAL_MS)}")
    rows.append(f"| own share of RunPodSandbox (daemon time minus plugin "
                f"time), one after another, <= {OWN_SHARE_GOAL_MS:g} ms p50" +
                (" (measured: the mean)" if means or not has_split(shares)
                 else "") + " | " +
                " | ".join(cells) + " |")
    cells = []
    for x in sides:
        mem = (stats.get((x, "seq")) or {}).get("mem")
        if x != NOINFRA_USERNS:
            cells.append("-")
        elif not mem:
            cells.append("n/a")
        else:
            procs = mem["procs_per_pod"][0]
            cells.append(f"{procs:g}, {verdict(procs == 0)}")
    if NOINFRA_USERNS in sides:
        rows.append("| processes per pod with infra = \"none\" = 0 | " +
                    " | ".join(cells) + " |")
    return rows + [""]


def rpc_bound(sh, what, bound, peer_p50):
    """Why an RPC's p50 goal is missed, from the per-RPC split: the goal in
    ms, then each part's p50, then whether the execs alone exceed it."""
    target = bound * peer_p50
    text = (f"{bound:g}x containerd's p50 ({peer_p50:.1f} ms) is "
            f"{target:.1f} ms. ")
    plugin = sh.get(f"{what}_plugin_p50_ms")
    if plugin is None:
        return text + "No per-RPC split of it in this run's metrics."
    runtime = sh.get(f"{what}_runtime_p50_ms", 0.0)
    own = sh.get(f"{what}_own_p50_ms", float("nan"))
    text += (f"Per call, each a p50 of the daemon's split: CNI plugins "
             f"{plugin:.1f} ms" +
             (f", runtime binaries {runtime:.1f} ms" if runtime > 0 else "") +
             f", ours (the call minus its plugin time) {own:.1f} ms. ")
    execs = plugin + runtime
    if execs >= target:
        return text + (f"The execs alone take {execs / peer_p50:.2f}x "
                       "containerd's p50: the goal is out of reach even with "
                       "no time of ours.")
    return text + (f"That leaves {target - execs:.1f} ms for ours beside the "
                   "execs.")


def cpu_bound(a, c, bound):
    """Why pods/s misses its goal: host CPU per pod during the run phase."""
    ca, cc = a.get("cpu"), c.get("cpu")
    if not ca or not cc:
        return "No CPU figures in this run's reports."
    rest = ca["host_ms"] - ca["daemon_ms"] - ca["children_ms"]
    allowed = cc["host_ms"] / ca["host_ms"] if ca["host_ms"] else float("nan")
    return (f"During the run phase the host's {ca['cpus']} CPUs were "
            f"{ca['busy']:.0%} busy ({cc['busy']:.0%} in containerd's): "
            f"pods/s is bound by host CPU per pod, {ca['host_ms']:.1f} ms "
            f"here (the daemon {ca['daemon_ms']:.1f} ms, its CNI plugins and "
            f"runtime binaries {ca['children_ms']:.1f} ms, the rest of the "
            f"host {rest:.1f} ms: kernel work no process is charged for, "
            "such as namespace, veth and cgroup teardown in workqueues and "
            "RCU callbacks, and the load generator) against containerd's "
            f"{cc['host_ms']:.1f} ms. With both CPU-bound the pods/s ratio "
            f"is at most {allowed:.2f}x; {bound:g}x would need "
            f"{cc['host_ms'] / bound:.1f} ms of host CPU per pod.")


def bounds_section(run, stats, shares):
    """What bounds each goal not met, from this run's figures. Only for
    runs with a per-RPC split or CPU figures (older runs have neither)."""
    meta = run["meta"]
    sides = [x for x in run_sides(meta) if x != PEER]
    has_cpu = any("cpu" in v for v in stats.values())
    if (PEER not in run_sides(meta) or not sides or
            not (has_split(shares) or has_cpu)):
        return []
    workers = meta["workers"]
    items = []
    for x in sides:
        for label, mode, what, bound, sense in RATIO_GOALS:
            a, c = stats.get((x, mode)), stats.get((PEER, mode))
            if not a or not c:
                continue
            if what == "pods_per_s":
                value = ratio(a[what][0], c[what][0])
                met = value >= bound if sense == ">=" else value <= bound
                why = cpu_bound(a, c, bound)
            else:
                value = ratio(a[what][50], c[what][50])
                met = value <= bound if sense == "<=" else value >= bound
                why = rpc_bound(shares.get((x, mode)) or {}, what, bound,
                                c[what][50])
                if mode == "conc" and what == "run" and a.get("cpu"):
                    why += (f" At {workers} workers the calls queue for the "
                            f"CPUs ({a['cpu']['busy']:.0%} busy): see pods/s.")
            if not met:
                items.append(f"- **{SIDE_TITLES[x]}, "
                             f"{label.format(workers=workers)}** "
                             f"({value:.2f}x): {why}")
        sh = shares.get((x, "seq")) or {}
        own = sh.get("run_own_p50_ms")
        if own is not None and own > OWN_SHARE_GOAL_MS:
            items.append(
                f"- **{SIDE_TITLES[x]}, own share of RunPodSandbox** "
                f"({own:.1f} ms p50): the daemon's part of the call's "
                "critical path beside the plugins: the namespaces, loopback, "
                "journal and pod files steps, the CNI cache entry's fsync, "
                "the pause's start where it outlasts ADD, and gRPC around "
                "them (`bench/controller_bench` BM_PodSteps times each step; "
                "docs/design.md, \"Where Run's and Stop's time goes\").")
    if not items:
        return []
    return ["#### What bounds each goal not met", "",
            "Computed from this run's figures: the daemon's per-RPC split "
            "(metrics) and the run phase's CPU time (cri_load).", ""] + \
        items + [""]


def small(stats):
    return any(v[rpc]["n"] < MIN_SAMPLES_FOR_P99
               for v in stats.values() for rpc, _ in RPCS)


def run_section(run):
    meta = run["meta"]
    parts = meta.get("parts", ["pods"])
    stats = {key: summarize(reports) for key, reports in run["loads"].items()
             if key[1] in MODES}
    pull_stats = {side: summarize_pulls(reports)
                  for (side, mode), reports in run["loads"].items()
                  if mode == PULL}
    ctr_stats = {side: summarize_containers(reports)
                 for (side, mode), reports in run["loads"].items()
                 if mode == CONTAINERS}
    m = meta["machine"]
    title = f"### Run {run['id']}"
    lines = [title, ""]
    if meta.get("smoke"):
        lines += ["**Smoke run, not a measurement**: "
                  f"{meta.get('compilation_mode', '?')} binaries and tiny "
                  "loads, kept only to show the pipeline from `scripts/bench` "
                  "to this page working.", ""]
    elif small(stats):
        lines += [f"**Small run**: some figures rest on fewer than "
                  f"{MIN_SAMPLES_FOR_P99} samples, so their p99 is the "
                  "largest sample (marked \"(max)\"). Read it as a check "
                  "that the pipeline works, not as a measurement.", ""]
    ps = meta["podsandbox"]
    lines += [
        f"- command: `sudo {meta['command']}`",
        f"- when: {meta['started_utc']} to {meta['finished_utc']} (UTC); "
        f"load average {meta['loadavg_start']} at start, "
        f"{meta['loadavg_end']} at end",
        f"- machine: {m['cpus']} CPUs ({m['cpu_model']}), {m['mem_mib']} MiB, "
        f"kernel {m['kernel']}, {m['os']}",
        f"- versions: runc {m['runc']}, " +
        (f"crun {m['crun']}, " if m.get("crun") else "") +
        f"containerd {m['containerd']}, "
        f"containernetworking-plugins {m['cni_plugins']}, podsandbox "
        f"{ps['commit']}" +
        (" (with uncommitted changes)" if ps["uncommitted_changes"] else ""),
        f"- podsandboxd and cri_load built with `-c "
        f"{meta.get('compilation_mode', 'opt')}`",
        f"- CNI plugins of both daemons from `{meta['cni_bin_dir']}`; both "
        f"daemons' root and state directories on `{meta['work_fs']}`",
    ]
    if "pods" in parts:
        count = len(MODES) * len(run_sides(meta))
        lines.append(
            f"- {meta['rounds']} round{'s' if meta['rounds'] != 1 else ''}; "
            f"the {NUMBER_WORDS.get(count, count)} loads of each round in a "
            f"random order (seed {meta['seed']}; orders below)")
    check = meta.get("containerd_userns_check")
    if "pods" in parts and check:
        ignored = check["uid_map"].split() == ["0", "0", "4294967295"]
        lines.append(
            f"- containerd and user namespaces: a pod asking for "
            f"{check['request']} got a pause with uid_map "
            f"\"{check['uid_map']}\""
            + (" (the request was ignored: its pods are not isolated)"
               if ignored else ""))
    lines.append("")
    shares = own_share(run, stats)
    pause = pause_summary(run["pause"]) if run["pause"] is not None else None
    if "pods" in parts and len(run_sides(meta)) > 1 or pause is not None:
        lines += goals_table(run, stats, shares, pause)
    if "pods" in parts:
        for mode in MODES:
            lines += mode_table(run, mode, stats)
    if shares:
        lines += own_share_table(run, shares)
    if "pods" in parts:
        lines += bounds_section(run, stats, shares)
    if pause is not None:
        lines += pause_table(run, pause)
    if "pull" in parts:
        lines += pull_table(run, pull_stats)
    if CONTAINERS in parts:
        for ours, peer, runtime in CONTAINER_PAIRS:
            if runtime == "runc" or ours in ctr_stats or peer in ctr_stats:
                lines += containers_table(run, ctr_stats, ours, peer, runtime)
        lines += container_memory_table(run, ctr_stats)
    if "pods" in parts:
        lines += ["<details><summary>Load order per round</summary>", ""]
        for i, order in enumerate(meta["order"], 1):
            lines.append(f"{i}. " + ", ".join(order))
        lines += ["", "</details>", ""]
    if "pull" in parts:
        lines += ["<details><summary>Pull order per round</summary>", ""]
        for i, order in enumerate(meta["pull"]["order"], 1):
            lines.append(f"{i}. " + ", ".join(order))
        lines += ["", "</details>", ""]
    if CONTAINERS in parts:
        lines += ["<details><summary>Containers order per round</summary>",
                  ""]
        for i, order in enumerate(meta["containers"]["order"], 1):
            lines.append(f"{i}. " + ", ".join(order))
        lines += ["", "</details>", ""]
    stats.update({(side, PULL): v for side, v in pull_stats.items()})
    stats.update({(side, CONTAINERS): v for side, v in ctr_stats.items()})
    return lines, stats


# Short names of the podsandboxd sides, for the across-runs cells.
SIDE_TAGS = {OURS: "runc", USERNS: "runc+userns", BUILTIN: "builtin",
             BUILTIN_USERNS: "builtin+userns",
             NOINFRA_USERNS: "none+userns"}


def across_runs(summaries):
    rows = ["## Across runs", "",
            "Ratios side / containerd, one column per run, newest first; "
            "each cell names the podsandboxd sides that run had (runc, "
            "runc+userns: the runc handler without and with a user "
            "namespace; builtin, builtin+userns: the builtin handler; "
            "none+userns: builtin with infra = \"none\").", "",
            "| ratio | " + " | ".join(rid for rid, _ in summaries) + " |",
            "|---|" + "---|" * len(summaries)]

    def row(label, fn):
        cells = []
        for _, s in summaries:
            parts = []
            for side in ALL_SIDES:
                if side == PEER:
                    continue
                try:
                    parts.append(f"{SIDE_TAGS[side]} {fn(s, side):.2f}x")
                except (KeyError, TypeError):
                    pass
            cells.append(", ".join(parts) or "n/a")
        rows.append(f"| {label} | " + " | ".join(cells) + " |")

    for mode, where in (("seq", "one after another"), ("conc", "parallel")):
        for rpc, label in RPCS:
            row(f"{label} p50, {where}",
                lambda s, side, rpc=rpc, mode=mode: ratio(
                    s[(side, mode)][rpc][50], s[(PEER, mode)][rpc][50]))
        row(f"pods/s, {where}",
            lambda s, side, mode=mode: ratio(s[(side, mode)]["pods_per_s"][0],
                                             s[(PEER, mode)]["pods_per_s"][0]))
    row("host memory per pod",
        lambda s, side: ratio(s[(side, "seq")]["mem"]["per_pod"][0],
                              s[(PEER, "seq")]["mem"]["per_pod"][0]))
    # Only once some run has the kernel figures: older pages stay as they
    # were.
    if any("host" in ((s.get((side, "seq")) or {}).get("mem") or {})
           for _, s in summaries for side in ALL_SIDES):
        row("host memory per pod, PSS + kernel",
            lambda s, side: ratio(s[(side, "seq")]["mem"]["host"][0],
                                  s[(PEER, "seq")]["mem"]["host"][0]))
    pull_cells = []
    for _, s in summaries:
        try:
            pull_cells.append(f"{ratio(s[(OURS, PULL)]['pull'][50], s[(PEER, PULL)]['pull'][50]):.2f}x")
        except (KeyError, TypeError):
            pull_cells.append("n/a")
    rows.append("| PullImage p50 (podsandboxd / containerd) | " +
                " | ".join(pull_cells) + " |")
    return rows + [""]


METHOD = """\
## How the figures are made, and what they leave out

- **Loads.** `bench/cri_load` against each daemon's CRI socket: warm-up
  pod(s), then all pods are run, then (with every pod alive, one after
  another only) memory is measured, then all are stopped, then all removed.
  Latencies are client-side over the unix socket. Pods have a unique name,
  a log directory, no port mappings and no DNS config; with userns, each
  pod maps container id 0 to 65536 host ids of its own.
- **Same work on both sides.** The same CNI chain (bridge + host-local +
  portmap, no masquerade) from the same plugin directory, on bridges and
  subnets of their own; runc on both for the runc sides (the builtin
  sides have no runtime binary at all). containerd also runs the loopback
  CNI plugin for `lo` (its normal behaviour); podsandboxd brings `lo` up
  over netlink. containerd 1.6 ignores user namespace requests (checked in
  every run, above), so the userns column compares isolated pods with its
  unisolated ones.
- **Sides.** podsandboxd is one daemon with three runtime handlers, each
  load naming one: runc; builtin (podsandboxd starts the pause itself, no
  runtime binary); builtin with `infra = "none"` (no process per pod: its
  namespaces are pinned instead). A side's name says its handler and
  whether each pod has a user namespace of its own.
- **Order.** Each round runs two loads per side (one after another, in
  parallel) in an order drawn from the run's seed, so no side always
  follows the same one.
- **Our own share of RunPodSandbox.** podsandboxd records each RPC's time
  and each CNI plugin exec's time in its metrics. Newer runs' daemons
  also split each Run/Stop/RemovePodSandbox call's time themselves
  (`podsandbox_rpc_time_split_seconds`: the plugin execs and runtime
  binary execs of that call, counted on whichever thread ran them, and
  the call's time minus its plugin time, "own"), in 0.5 ms buckets up to
  30 ms, so the page gives p50s of each call's own share and judges the
  goal on them. Earlier runs have only the sums: their
  RunPodSandbox time minus plugin ADD time, over the load's
  RunPodSandbox count, is a mean, judged as such and marked so.
- **What bounds a goal not met.** Each run with the split (or with CPU
  figures) lists, per goal missed, the figures that bound it: for an RPC,
  each part's p50 beside the goal in ms (when the plugins' own p50 is
  already above it, no work of ours can meet it); for pods/s at N
  workers, the host CPU time per pod over the run phase (`cri_load`
  reads /proc/stat and the daemon's /proc/PID/stat, whose reaped-children
  time is its CNI plugins' and runtime binaries'), since on a host whose
  CPUs are all busy pods/s is CPUs / CPU per pod.
- **The pause alone.** `bench/pause_task_bench` (Google Benchmark, run
  before either daemon starts) times our pause task's Start and Stop+Delete
  with the builtin, runc and crun handlers, and runc and crun run by hand on
  the same bundle; a host-network pod without a user namespace. Google
  Benchmark keeps a mean per repetition, not each start, so the "p50" is
  the median of the repetitions' means.
- **Statistics.** Percentiles are nearest-rank over every round's samples
  pooled, with the sample count n in the table; a p99 over fewer than 100
  samples is the largest sample and is marked "(max)". pods/s counts
  successful RunPodSandbox calls over the wall time of the run phase.
- **What the memory figure leaves out.** It is the PSS of the processes
  each pod adds (podsandboxd: the pause; containerd: its shim and the
  pause), shared pages split between pods, plus the growth of the daemon's
  own PSS with all pods alive. It does not count kernel memory: the pod's
  namespaces (user, network, mount, UTS, IPC, PID), veth pairs and bridge
  ports, namespace pins and other mounts (containerd's overlay rootfs and
  shm mounts), cgroups, iptables and conntrack entries, socket buffers and
  slab; nor page cache and tmpfs pages (records, CNI cache entries,
  bundles, pod files, containerd's bolt databases and snapshots), which no
  process's PSS includes; nor the runtime and plugin processes that live
  only while a pod is created or removed.
- **Kernel memory per pod.** Newer runs also read /proc/meminfo (slab,
  reclaimable and not; per-CPU memory; kernel stacks; page tables; shmem,
  i.e. tmpfs pages) and /proc/cgroups (memory cgroups) just before the
  one-after-another load's run phase and again with all its pods alive,
  each figure the median of the last five readings 200 ms apart, once
  their totals agree within 128 KiB (after a load's pods are removed the
  kernel frees their namespaces for a while yet) or after 25 readings,
  and divide the growth by the pods: what the pods' namespaces, veths,
  mounts, cgroups, kernel stacks, page tables and tmpfs files cost, which
  PSS leaves out. The counters are host-wide, so whatever else the host
  did meanwhile is in the figure too (the median keeps out a short
  burst), and caches are not dropped first (that would
  disturb the rest of the host), so reclaimable slab (dentries and
  inodes) can move with other file activity: it has a row of its own.
  Per-CPU memory grows in whole chunks shared by everything on the host,
  so it shows as nothing or as a lump. Page cache (records on a disk
  file system) is not counted. PSS + kernel
  is the host memory per pod; with infra = "none", kernel memory is all
  a pod costs.
- **Durability is not the same on both sides.** podsandboxd fsyncs one
  file on RunPodSandbox's path, the CNI result cache entry (and its
  directory); its own record writes on that path are not fsynced
  (docs/design.md, "Journal durability", says why). containerd's bolt
  metadata stores (its `meta.db` and the overlayfs snapshotter's
  `metadata.db`) fsync every write transaction, and its RunPodSandbox
  writes to both. How much that costs depends on the file system the
  daemons' directories are on, recorded per run above (on tmpfs it costs
  nothing).
- **Pulls.** `bench/pull_load` against each daemon's ImageService, the
  same image from the same registry process on loopback, plain http, no
  auth: a RemoveImage, then a timed PullImage (manifest, config, every
  layer downloaded, verified and unpacked; both daemons return only when
  the image is usable), then a timed RemoveImage, per sample. Both
  daemons' stores are under the run's work directory (file system above).
  The memory figure is the daemon's PSS sampled every 20 ms during each
  pull, peak minus idle: a daemon that streams layers stays near idle,
  one that buffers grows by them. containerd keeps each compressed layer
  in its content store beside the unpacked snapshot (its default);
  podsandboxd keeps only the unpacked layer, so it writes less.
- **Containers.** `bench/container_load` against each daemon; containerd
  on crun is its io.containerd.runc.v2 shim with `BinaryName` crun. On
  podsandboxd's sides each iteration also runs the runtime binary by hand
  on the running container (podsandboxd's own runtime root): `exec` with
  the process.json podsandboxd writes, waiting itself and with `--detach`
  until the process is gone (a pidfd), after the first ExecSync; then a
  second ExecSync; then `create` + `start` of a copy of the container's
  bundle (same rootfs mount, a cgroup of its own), last because an exec
  right after it was seen slower. A container's first exec depends on how
  warm the machine is: with a 100 ms pause after StartContainer
  (`container_load --settle_before_exec`) every side's first exec took
  ~10 ms longer in a trial, so the second ExecSync is the steadier
  figure to set beside the runtime's own. These are the floors: what
  podsandboxd adds is the RPC minus them. The memory figures come from pods and
  containers kept alive after the iterations (the table says how); the
  container's own process and the pod's pause are not counted, every
  other process below the daemon or a shim is.
"""


def render(results_dir):
    complete, incomplete = load_runs(results_dir)
    lines = [
        "# podsandboxd vs containerd: RunPodSandbox latency, throughput, "
        "memory, image pull", "",
        "Generated by `bench/make_results.py` from the raw `bench/cri_load` "
        "reports kept under `bench/results/`; do not edit by hand. "
        "`scripts/bench` (run as root) measures a new run, writes its raw "
        "data there and regenerates this page; "
        "`bench/make_results.py --check` verifies the page against the "
        "data.", ""]
    if not any(not run["meta"].get("smoke") for run in complete):
        lines += ["## No committed run yet", "",
                  "No complete measured run (other than a smoke run) is in "
                  "`bench/results/`. Earlier, "
                  "hand-written figures were removed because their raw data "
                  "was not kept. Run `sudo scripts/bench` (10 rounds of six "
                  "loads with its defaults) and commit "
                  "`bench/results/<run-id>/` together with this page.", ""]
    if complete:
        lines += ["## Runs, newest first", ""]
        summaries = []
        for run in complete:
            section, stats = run_section(run)
            lines += section
            summaries.append((run["id"], stats))
        if len(summaries) > 1:
            lines += across_runs(summaries)
    if incomplete:
        lines += ["## Incomplete runs (left out)", ""]
        for run in incomplete:
            lines.append(f"- {run['id']}: {run['load_count']} of "
                         f"{run['expected_loads']} loads")
        lines.append("")
    lines.append(METHOD)
    return "\n".join(lines).rstrip("\n") + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--results", default=os.path.join(HERE, "results"),
                        help="directory of run directories")
    parser.add_argument("--out", default=os.path.join(HERE, "RESULTS.md"),
                        help="the page to write")
    parser.add_argument("--check", action="store_true",
                        help="compare instead of writing; exit 1 on a "
                        "difference")
    args = parser.parse_args()
    text = render(args.results)
    if args.check:
        try:
            with open(args.out) as f:
                current = f.read()
        except FileNotFoundError:
            current = None
        if current != text:
            print(f"{args.out} is not what {args.results} gives; run "
                  "bench/make_results.py", file=sys.stderr)
            return 1
        return 0
    with open(args.out, "w") as f:
        f.write(text)
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
