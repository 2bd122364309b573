"""Turns scripts/bench's cri_load JSON files into bench/RESULTS.md.

Input (environment): RESULTS, a directory of NAME.SCENARIO.ROUND.json
written by cri_load (NAME: podsandboxd, podsandboxd-userns, containerd;
SCENARIO: seq, conc); MACHINE and USERNS_NOTE, text files; COMMAND, SEQ,
CONC, WORKERS, ROUNDS; PLOT (1: a CDF PNG is drawn); OUT, the markdown to write; PLOTDATA, a directory for
CDF data files (NAME.RPC.dat: "ms fraction" lines, for gnuplot).

Latency percentiles pool every round's samples (nearest rank, as cri_load
computes them); pods/s is the mean over rounds; memory the median. Whatever
follows the analysis marker in an existing OUT is kept, so measured notes
survive a re-run. Prints the markdown to stdout too.
"""

import glob
import json
import math
import os
import statistics

MARKER = "<!-- analysis: everything below is kept by scripts/bench -->"
OURS, USERNS, PEER = "podsandboxd", "podsandboxd-userns", "containerd"
NAMES = [OURS, USERNS, PEER]


def percentile(samples, q):
    if not samples:
        return 0.0
    s = sorted(samples)
    rank = math.ceil(q / 100.0 * len(s))
    return s[max(rank, 1) - 1]


def load(results):
    runs = {}
    for path in sorted(glob.glob(os.path.join(results, "*.json"))):
        name, scenario, _, _ = os.path.basename(path).rsplit(".", 3)
        with open(path) as f:
            runs.setdefault((name, scenario), []).append(json.load(f))
    return runs


def summarize(reports):
    out = {"errors": sum(r["errors"] for r in reports)}
    for rpc in ("run", "stop", "remove"):
        pooled = [x for r in reports for x in r["samples_ms"][rpc]]
        out[rpc] = {q: percentile(pooled, q) for q in (50, 95, 99)}
        out[rpc]["n"] = len(pooled)
        out[rpc + "_samples"] = pooled
    out["pods_per_s"] = statistics.mean(r["pods_per_s"] for r in reports)
    out["pods_per_s_rounds"] = [r["pods_per_s"] for r in reports]
    mem = [r["memory"] for r in reports if "memory" in r]
    if mem:
        pods = mem[0]["pods"]
        out["mem_per_pod"] = statistics.median(m["per_pod_kib"] for m in mem)
        out["mem_procs_per_pod"] = statistics.median(
            m["pod_processes_pss_kib"] / m["pods"] for m in mem)
        out["mem_growth_per_pod"] = statistics.median(
            m["daemon_growth_kib"] / m["pods"] for m in mem)
        out["procs_per_pod"] = statistics.median(
            m["processes"] / m["pods"] for m in mem)
        out["mem_pods"] = pods
    return out


def ratio(a, b):
    return a / b if b else float("nan")


def main():
    env = os.environ
    runs = load(env["RESULTS"])
    s = {key: summarize(reports) for key, reports in runs.items()}
    seq, conc = env["SEQ"], env["CONC"]

    lines = ["# podsandboxd vs containerd: RunPodSandbox latency, throughput, memory", ""]
    lines.append("Written by `scripts/bench` (issue 7); re-run it to refresh "
                 "everything above the analysis marker.")
    lines += ["", "## Machine and versions", ""]
    with open(env["MACHINE"]) as f:
        lines += [l.rstrip() for l in f]
    lines += ["", "## Command", "", "```", "sudo " + env["COMMAND"], "```", ""]
    lines.append(
        f"{env['ROUNDS']} rounds, interleaved per load (podsandboxd, "
        f"containerd, podsandboxd + userns, then the next load). Loads: "
        f"{seq} pods one after another (memory measured with all {seq} alive), "
        f"and {conc} pods with {env['WORKERS']} workers. Each load runs all "
        "pods, then stops all, then removes all; one warm-up pod first. "
        "Latencies are client-side over the unix socket, all rounds' samples "
        "pooled; pods/s is over the run phase, mean of rounds; memory is the "
        "median of rounds. Same CNI chain on both sides (bridge + host-local "
        "+ portmap, no masquerade), runc on both. containerd's own loopback "
        "plugin run is its normal behaviour; podsandboxd brings lo up over "
        "netlink.")
    lines.append("")

    def table(scenario, title, with_memory):
        rows = [f"### {title}", "",
                "| metric | podsandboxd | podsandboxd + userns | containerd 1.6 | ratio | ratio (userns) |",
                "|---|---:|---:|---:|---:|---:|"]
        get = {n: s.get((n, scenario)) for n in NAMES}
        if not all(get.values()):
            return rows + ["| (missing runs) | | | | | |", ""]
        for rpc, label in (("run", "RunPodSandbox"), ("stop", "StopPodSandbox"),
                           ("remove", "RemovePodSandbox")):
            for q in (50, 95, 99):
                a, u, c = (get[n][rpc][q] for n in NAMES)
                rows.append(f"| {label} p{q} (ms) | {a:.1f} | {u:.1f} | {c:.1f} | "
                            f"{ratio(a, c):.2f}x | {ratio(u, c):.2f}x |")
        a, u, c = (get[n]["pods_per_s"] for n in NAMES)
        rows.append(f"| pods/s | {a:.2f} | {u:.2f} | {c:.2f} | "
                    f"{ratio(a, c):.2f}x | {ratio(u, c):.2f}x |")
        if with_memory and all("mem_per_pod" in get[n] for n in NAMES):
            for key, label in (("mem_per_pod", "host memory per pod (KiB PSS, processes + daemon growth)"),
                               ("mem_procs_per_pod", "  of which the pod's processes (KiB)"),
                               ("mem_growth_per_pod", "  of which daemon growth (KiB)")):
                a, u, c = (get[n][key] for n in NAMES)
                rows.append(f"| {label} | {a:.0f} | {u:.0f} | {c:.0f} | "
                            f"{ratio(a, c):.3f}x | {ratio(u, c):.3f}x |")
            a, u, c = (get[n]["procs_per_pod"] for n in NAMES)
            rows.append(f"| processes per pod | {a:g} | {u:g} | {c:g} | | |")
        errors = sum(get[n]["errors"] for n in NAMES)
        rows.append(f"| RPC errors | {get[OURS]['errors']} | {get[USERNS]['errors']} | "
                    f"{get[PEER]['errors']} | | |")
        return rows + ["", "ratio = podsandboxd / containerd.", ""]

    lines += ["## Results", ""]
    lines += table("seq", f"{seq} pods one after another", True)
    lines += table("conc", f"{conc} pods, {env['WORKERS']} workers", False)

    lines += ["## Targets (issue 7)", "",
              "| target | podsandboxd | met | podsandboxd + userns | met |",
              "|---|---:|---|---:|---|"]
    def target(label, key_fn, limit, at_most):
        vals = []
        for n in (OURS, USERNS):
            try:
                v = key_fn(n)
            except (KeyError, TypeError):
                vals += ["n/a", "no data"]
                continue
            ok = v <= limit if at_most else v >= limit
            vals += [f"{v:.3f}x", "yes" if ok else "**no**"]
        lines.append(f"| {label} | " + " | ".join(vals) + " |")
    seqd = lambda n: s[(n, "seq")]
    concd = lambda n: s[(n, "conc")]
    target("RunPodSandbox p50 <= 0.4x (one after another)",
           lambda n: ratio(seqd(n)["run"][50], seqd(PEER)["run"][50]), 0.4, True)
    target("StopPodSandbox p50 <= 0.4x (one after another)",
           lambda n: ratio(seqd(n)["stop"][50], seqd(PEER)["stop"][50]), 0.4, True)
    target(f"RunPodSandbox p50 <= 0.4x ({env['WORKERS']} workers)",
           lambda n: ratio(concd(n)["run"][50], concd(PEER)["run"][50]), 0.4, True)
    target(f"StopPodSandbox p50 <= 0.4x ({env['WORKERS']} workers)",
           lambda n: ratio(concd(n)["stop"][50], concd(PEER)["stop"][50]), 0.4, True)
    target(f"pods/s at {env['WORKERS']} workers >= 3x",
           lambda n: ratio(concd(n)["pods_per_s"], concd(PEER)["pods_per_s"]), 3.0, False)
    target("host memory per pod <= 0.1x",
           lambda n: ratio(seqd(n)["mem_per_pod"], seqd(PEER)["mem_per_pod"]), 0.1, True)
    lines.append("")
    with open(env["USERNS_NOTE"]) as f:
        note = f.read().strip()
    lines += ["**containerd 1.6 and user namespaces.** It accepts "
              "`userns_options` and silently ignores them: its pods are NOT "
              "isolated, so the userns column compares our isolated pods with "
              "its unisolated ones. Checked in this run: " + note, ""]
    if env.get("PLOT") == "1":
        lines += ["Latency CDF of this run: `bench/cri_load_cdf.png` "
                  "(`--plot`; generated, not committed).", ""]

    kept = [MARKER, "", "## Analysis", "", "(none yet)", ""]
    if os.path.exists(env["OUT"]):
        with open(env["OUT"]) as f:
            old = f.read()
        if MARKER in old:
            kept = [MARKER + old.split(MARKER, 1)[1].rstrip("\n"), ""]
    text = "\n".join(lines + kept)
    with open(env["OUT"], "w") as f:
        f.write(text)
    print(text)

    os.makedirs(env["PLOTDATA"], exist_ok=True)
    for n in NAMES:
        for rpc in ("run", "stop"):
            data = sorted(s.get((n, "seq"), {}).get(rpc + "_samples", []))
            with open(os.path.join(env["PLOTDATA"], f"{n}.{rpc}.dat"), "w") as f:
                for i, x in enumerate(data):
                    f.write(f"{x} {(i + 1) / len(data)}\n")


if __name__ == "__main__":
    main()
