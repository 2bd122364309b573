#!/usr/bin/env python3
"""Builds bench/RESULTS.md from the raw benchmark data under bench/results/.

Every figure on the page is computed here from files kept in the
repository, so the page can be checked against its data at any time:

    bench/make_results.py            rewrite bench/RESULTS.md
    bench/make_results.py --check    exit 1 if it is not what the data gives

Input: one directory per run, bench/results/<run-id>/, written by
scripts/bench: meta.json (machine, versions, command, seed, load order,
"complete") and one cri_load JSON report per load,
<side>.<mode>.r<round>.json (side: podsandboxd, podsandboxd-userns,
containerd; mode: seq, conc), plus, when the run's meta.json lists
"pull" in "parts", one bench/pull_load JSON report per side and pull
round, <side>.pull.r<round>.json (side: podsandboxd, containerd). Runs
whose meta.json is not complete are listed and left out.

Statistics: latency percentiles pool every round's samples of a run and
use the nearest rank (as cri_load does), with the sample count beside
them; a p99 over fewer than 100 samples is the maximum and is marked so.
pods/s is the mean over rounds (with the range); memory the median over
rounds (with the range). Ratios are podsandboxd / containerd.

Python 3 standard library only.
"""

import argparse
import glob
import json
import math
import os
import statistics
import sys

OURS, USERNS, PEER = "podsandboxd", "podsandboxd-userns", "containerd"
SIDES = [OURS, USERNS, PEER]
SIDE_TITLES = {OURS: "podsandboxd", USERNS: "podsandboxd + userns",
               PEER: "containerd 1.6"}
MODES = ["seq", "conc"]
PULL = "pull"
PULL_SIDES = [OURS, PEER]
# The images issue's goal: podsandboxd's pull p50 at most this times
# containerd's.
PULL_GOAL = 0.7
RPCS = [("run", "RunPodSandbox"), ("stop", "StopPodSandbox"),
        ("remove", "RemovePodSandbox")]
QUANTILES = [50, 95, 99]
# Below this many samples the nearest-rank p99 is the largest sample.
MIN_SAMPLES_FOR_P99 = 100

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
        run = {"id": os.path.basename(run_dir), "meta": meta, "loads": loads}
        expected = len(SIDES) * len(MODES) * meta.get("rounds", 0)
        if meta.get("pull"):
            expected += len(PULL_SIDES) * meta["pull"]["rounds"]
        got = sum(len(v) for v in loads.values())
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
    if mode == "seq":
        title = f"{meta['seq_pods']} pods one after another"
    else:
        title = (f"{meta['conc_pods']} pods, {meta['workers']} workers in "
                 "parallel")
    rows = [f"#### {title}", "",
            "| metric | " + " | ".join(SIDE_TITLES[s] for s in SIDES) +
            " | ratio | ratio (userns) |",
            "|---|" + "---:|" * (len(SIDES) + 2)]
    get = {s: stats.get((s, mode)) for s in SIDES}
    if not all(get.values()):
        return rows + ["| (missing loads) |" + " |" * (len(SIDES) + 2), ""]
    for rpc, label in RPCS:
        n = [get[s][rpc]["n"] for s in SIDES]
        rows.append(f"| {label} samples (n) | " +
                    " | ".join(str(x) for x in n) + " | | |")
        for q in QUANTILES:
            a, u, c = (get[s][rpc][q] for s in SIDES)
            cells = [fmt_ms(get[s][rpc][q], get[s][rpc]["n"], q)
                     for s in SIDES]
            rows.append(f"| {label} p{q} (ms) | " + " | ".join(cells) +
                        f" | {ratio(a, c):.2f}x | {ratio(u, c):.2f}x |")
    a, u, c = (get[s]["pods_per_s"][0] for s in SIDES)
    rows.append("| pods/s, mean of rounds (range) | " +
                " | ".join(fmt_range(get[s]["pods_per_s"], 2)
                           for s in SIDES) +
                f" | {ratio(a, c):.2f}x | {ratio(u, c):.2f}x |")
    if all("mem" in get[s] for s in SIDES):
        for key, label in (
                ("per_pod", "host memory per pod (KiB PSS: processes + "
                 "daemon growth), median of rounds (range)"),
                ("processes", "  of which the pod's processes (KiB)"),
                ("growth", "  of which daemon growth (KiB)")):
            a, u, c = (get[s]["mem"][key][0] for s in SIDES)
            rows.append(f"| {label} | " +
                        " | ".join(fmt_range(get[s]["mem"][key], 0)
                                   for s in SIDES) +
                        f" | {ratio(a, c):.3f}x | {ratio(u, c):.3f}x |")
        rows.append("| processes per pod | " +
                    " | ".join(f"{get[s]['mem']['procs_per_pod'][0]:g}"
                               for s in SIDES) + " | | |")
    rows.append("| RPC errors | " +
                " | ".join(str(get[s]["errors"]) for s in SIDES) + " | | |")
    return rows + [""]


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
        f"- versions: runc {m['runc']}, containerd {m['containerd']}, "
        f"containernetworking-plugins {m['cni_plugins']}, podsandbox "
        f"{ps['commit']}" +
        (" (with uncommitted changes)" if ps["uncommitted_changes"] else ""),
        f"- podsandboxd and cri_load built with `-c "
        f"{meta.get('compilation_mode', 'opt')}`",
        f"- CNI plugins of both daemons from `{meta['cni_bin_dir']}`; both "
        f"daemons' root and state directories on `{meta['work_fs']}`",
    ]
    if "pods" in parts:
        lines.append(
            f"- {meta['rounds']} round{'s' if meta['rounds'] != 1 else ''}; "
            f"the six loads of each round in a random "
            f"order (seed {meta['seed']}; orders below)")
        check = meta["containerd_userns_check"]
        ignored = check["uid_map"].split() == ["0", "0", "4294967295"]
        lines.append(
            f"- containerd and user namespaces: a pod asking for "
            f"{check['request']} got a pause with uid_map "
            f"\"{check['uid_map']}\""
            + (" (the request was ignored: its pods are not isolated)"
               if ignored else ""))
    lines.append("")
    if "pods" in parts:
        for mode in MODES:
            lines += mode_table(run, mode, stats)
    if "pull" in parts:
        lines += pull_table(run, pull_stats)
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
    stats.update({(side, PULL): v for side, v in pull_stats.items()})
    return lines, stats


def across_runs(summaries):
    rows = ["## Across runs", "",
            "Ratios podsandboxd / containerd (podsandboxd + userns / "
            "containerd), one column per run, newest first.", "",
            "| ratio | " + " | ".join(rid for rid, _ in summaries) + " |",
            "|---|" + "---|" * len(summaries)]

    def row(label, fn):
        cells = []
        for _, s in summaries:
            try:
                cells.append(f"{fn(s, OURS):.2f}x / {fn(s, USERNS):.2f}x")
            except (KeyError, TypeError):
                cells.append("n/a")
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
  subnets of their own; runc on both. containerd also runs the loopback
  CNI plugin for `lo` (its normal behaviour); podsandboxd brings `lo` up
  over netlink. containerd 1.6 ignores user namespace requests (checked in
  every run, above), so the userns column compares isolated pods with its
  unisolated ones.
- **Order.** Each round runs the six loads (three sides, two modes) in an
  order drawn from the run's seed, so no side always follows the same one.
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
