#!/usr/bin/env python3
"""Unit test of bench/make_results.py on the synthetic run under
bench/testdata/make_results/ (one round; builtin + userns, infra none +
userns and containerd; metrics around each podsandboxd load; a
pause_task_bench report), and on a containers-only run made from it with
the four container_load reports under bench/testdata/containers/
(podsandboxd and containerd on runc and on crun, with the runtime by hand
and memory stages). The figures there are chosen so each
computation has one right answer, worked out in the comments below.

    python3 bench/make_results_test.py      (or bazel test //bench:make_results_test)
"""

import json
import math
import os
import shutil
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_results as mr  # noqa: E402

TESTDATA = os.path.join(HERE, "testdata", "make_results")
# Four container_load reports (podsandboxd, containerd; runc, crun) of one
# round.
CONTAINERS_TESTDATA = os.path.join(HERE, "testdata", "containers")
RUN_ID = "20260101T000000Z-test"


class MakeResultsTest(unittest.TestCase):

    def setUp(self):
        complete, incomplete = mr.load_runs(TESTDATA)
        self.assertEqual(incomplete, [])
        self.assertEqual(len(complete), 1)
        self.run = complete[0]
        self.stats = {key: mr.summarize(reports)
                      for key, reports in self.run["loads"].items()}

    def test_sides_come_from_meta(self):
        self.assertEqual(mr.run_sides(self.run["meta"]),
                         [mr.BUILTIN_USERNS, mr.NOINFRA_USERNS, mr.PEER])
        # A run from before "sides" was recorded has the first three.
        self.assertEqual(mr.run_sides({}), [mr.OURS, mr.USERNS, mr.PEER])

    def test_prom_parsing_filters_by_label(self):
        series = mr.parse_prom(
            'a_sum{method="Run",code="OK"} 1.5\n'
            'a_sum{method="Run",code="Unknown"} 0.5\n'
            'a_sum{method="Stop",code="OK"} 9\n'
            '# HELP a_sum not a sample\n'
            'b 2\n')
        self.assertEqual(mr.prom_total(series, "a_sum", method="Run"), 2.0)
        self.assertEqual(mr.prom_total(series, "b"), 2.0)
        self.assertEqual(mr.prom_total(series, "missing"), 0)

    def test_own_share_is_rpc_minus_plugin_add_time(self):
        shares = mr.own_share(self.run, self.stats)
        # builtin + userns, seq: 4 RunPodSandbox taking 0.1 s together;
        # bridge ADD 0.048 s + portmap ADD 0.02 s (bridge DEL and
        # StopPodSandbox are other series and must not count).
        sh = shares[(mr.BUILTIN_USERNS, "seq")]
        self.assertEqual(sh["n"], 4)
        self.assertAlmostEqual(sh["run_ms"], 25.0)
        self.assertAlmostEqual(sh["plugin_ms"], 17.0)
        self.assertAlmostEqual(sh["own_ms"], 8.0)
        # Client p50 25 ms minus the 17 ms mean plugin time.
        self.assertAlmostEqual(sh["client_p50_minus_plugin_ms"], 8.0)
        self.assertAlmostEqual(shares[(mr.NOINFRA_USERNS, "seq")]["own_ms"],
                               3.0)
        self.assertNotIn((mr.PEER, "seq"), shares)

    def test_bucket_quantile_interpolates_inside_the_bucket(self):
        inf = float("inf")
        # 4 calls: 1 <= 4 ms, 2 <= 4.5 ms, 3 <= 5 ms: the 2nd is the p50.
        self.assertAlmostEqual(
            mr.bucket_quantile({0.004: 1, 0.0045: 2, 0.005: 3, inf: 4}, 50),
            0.0045)
        # All 4 in (17, 18] ms: the p50 is halfway, 17.5 ms.
        self.assertAlmostEqual(
            mr.bucket_quantile({0.017: 0, 0.018: 4, inf: 4}, 50), 0.0175)
        # The first bucket starts at 0; the "sum" entry is no bound.
        self.assertAlmostEqual(
            mr.bucket_quantile({0.002: 4, inf: 4, "sum": 0.004}, 50), 0.001)
        # Past the last finite bound: that bound.
        self.assertAlmostEqual(mr.bucket_quantile({0.03: 0, inf: 2}, 50),
                               0.03)
        self.assertTrue(math.isnan(mr.bucket_quantile({inf: 0}, 50)))

    def test_own_share_p50s_come_from_the_per_rpc_split(self):
        shares = mr.own_share(self.run, self.stats)
        sh = shares[(mr.BUILTIN_USERNS, "seq")]
        self.assertAlmostEqual(sh["run_own_p50_ms"], 4.5)
        self.assertAlmostEqual(sh["run_plugin_p50_ms"], 17.5)
        # No call spent time in a runtime binary: 0, not half a bucket.
        self.assertEqual(sh["run_runtime_p50_ms"], 0.0)
        self.assertAlmostEqual(sh["stop_own_p50_ms"], 1.0)
        self.assertAlmostEqual(sh["stop_plugin_p50_ms"], 8.5)
        self.assertAlmostEqual(sh["remove_own_p50_ms"], 9.75)
        # infra none's metrics have no split: means only.
        self.assertNotIn("run_own_p50_ms",
                         shares[(mr.NOINFRA_USERNS, "seq")])
        table = "\n".join(mr.own_share_table(self.run, shares))
        self.assertIn("| 4.5 | 17.5 | 1.0 | 8.5 |", table)
        self.assertIn("| n/a | n/a | n/a | n/a |", table)

    def test_cpu_per_pod_over_the_run_phase(self):
        cpu = self.stats[(mr.NOINFRA_USERNS, "conc")]["cpu"]
        # 0.114 s busy of 0.12 s over 3 pods.
        self.assertAlmostEqual(cpu["busy"], 0.95)
        self.assertAlmostEqual(cpu["host_ms"], 38.0)
        self.assertAlmostEqual(cpu["daemon_ms"], 5.0)
        self.assertAlmostEqual(cpu["children_ms"], 20.0)
        self.assertNotIn("cpu", self.stats[(mr.BUILTIN_USERNS, "conc")])

    def test_each_goal_not_met_says_what_bounds_it(self):
        lines, _ = mr.run_section(self.run)
        page = "\n".join(lines)
        self.assertIn("#### What bounds each goal not met", page)
        # Remove 10 / 40 ms: 0.2x is 8 ms; no plugin time, ours 9.75 ms.
        self.assertIn(
            "- **podsandboxd builtin + userns, RemovePodSandbox p50, one "
            "after another** (0.25x): 0.2x containerd's p50 (40.0 ms) is "
            "8.0 ms. Per call, each a p50 of the daemon's split: CNI plugins "
            "0.0 ms, ours (the call minus its plugin time) 9.8 ms. That "
            "leaves 8.0 ms for ours beside the execs.", page)
        # pods/s 2.5x: 38 ms of host CPU per pod against containerd's 95.
        self.assertIn("CPUs were 95% busy (95% in containerd's)", page)
        self.assertIn("host CPU per pod, 38.0 ms here (the daemon 5.0 ms, "
                      "its CNI plugins and runtime binaries 20.0 ms, the "
                      "rest of the host 13.0 ms", page)
        self.assertIn("against containerd's 95.0 ms. With both CPU-bound the "
                      "pods/s ratio is at most 2.50x; 3x would need 31.7 ms "
                      "of host CPU per pod.", page)
        # infra none's Stop has no split to say it with.
        self.assertIn("StopPodSandbox p50, 8 workers** (0.40x): 0.3x "
                      "containerd's p50 (100.0 ms) is 30.0 ms. No per-RPC "
                      "split of it in this run's metrics.", page)
        # Goals met get no line.
        self.assertNotIn("RunPodSandbox p50, one after another** (", page)

    def test_an_rpc_whose_plugins_alone_exceed_the_goal(self):
        text = mr.rpc_bound({"stop_plugin_p50_ms": 32.5,
                             "stop_own_p50_ms": 2.4}, "stop", 0.3, 64.0)
        self.assertIn("The execs alone take 0.51x containerd's p50: the goal "
                      "is out of reach even with no time of ours.", text)

    def test_pause_summary_takes_the_median_of_repetitions(self):
        pause = mr.pause_summary(self.run["pause"])
        builtin = pause[("BM_CreateStart_Ours", "builtin")]
        self.assertEqual(builtin["reps"], 3)  # the aggregate is skipped
        self.assertAlmostEqual(builtin["median"], 2.5)
        self.assertAlmostEqual(builtin["min"], 2.0)
        self.assertAlmostEqual(pause[("BM_CreateStart_Ours", "runc")]["median"],
                               30.0)
        self.assertEqual(pause[("BM_CreateStart_ByHand", "crun")]["error"],
                         "runtime create/start failed")

    def test_pause_summary_reads_names_with_options_after_the_argument(self):
        # What pause_task_bench really writes: options follow the runtime
        # index ("…:2/iterations:30/real_time"); a real run failed on it.
        report = {"benchmarks": [{
            "name": "BM_KillDelete_Ours/runc_crun_builtin:2/iterations:30/"
                    "real_time",
            "run_name": "BM_KillDelete_Ours/runc_crun_builtin:2/"
                        "iterations:30/real_time",
            "run_type": "iteration", "real_time": 0.5, "time_unit": "ms"}]}
        pause = mr.pause_summary(report)
        self.assertAlmostEqual(
            pause[("BM_KillDelete_Ours", "builtin")]["median"], 0.5)

    def test_goals_are_judged_against_their_bounds(self):
        lines, _ = mr.run_section(self.run)
        page = "\n".join(lines)
        # Run p50 25 / 100 ms: 0.25x, met; Remove 10 / 40: 0.25x > 0.2x.
        self.assertIn("| RunPodSandbox p50, one after another <= 0.3x | "
                      "0.25x, met | 0.15x, met |", page)
        self.assertIn("| RemovePodSandbox p50, one after another <= 0.2x | "
                      "0.25x, **not met** | 0.12x, met |", page)
        # pods/s 70 / 20 = 3.5x, met; 50 / 20 = 2.5x, not.
        self.assertIn("| pods/s, 8 workers >= 3x | 3.50x, met | "
                      "2.50x, **not met** |", page)
        # builtin + userns has the per-RPC split: its own share is judged
        # on the p50 (4.5 ms, below); infra none has only the sums.
        self.assertIn("one after another, <= 5 ms p50 (measured: the mean) | "
                      "4.5 ms (p50), met | 3.0 ms (mean), met |", page)
        self.assertIn('| processes per pod with infra = "none" = 0 | - | '
                      "0, met |", page)
        self.assertIn("<= 3 ms p50: 2.50 ms, the median of the repetitions' "
                      "means, met.", page)

    def test_a_missing_pause_report_leaves_the_run_incomplete(self):
        with tempfile.TemporaryDirectory() as tmp:
            shutil.copytree(os.path.join(TESTDATA, RUN_ID),
                            os.path.join(tmp, RUN_ID))
            os.remove(os.path.join(tmp, RUN_ID, mr.PAUSE_REPORT))
            complete, incomplete = mr.load_runs(tmp)
            self.assertEqual(complete, [])
            self.assertEqual(incomplete[0]["load_count"], 6)
            self.assertEqual(incomplete[0]["expected_loads"], 7)

    def test_a_pause_only_run_renders_its_goal_alone(self):
        with tempfile.TemporaryDirectory() as tmp:
            run_dir = os.path.join(tmp, RUN_ID)
            os.mkdir(run_dir)
            shutil.copy(os.path.join(TESTDATA, RUN_ID, mr.PAUSE_REPORT),
                        run_dir)
            with open(os.path.join(TESTDATA, RUN_ID, "meta.json")) as f:
                meta = json.load(f)
            meta.update(parts=["pause"], sides=[], rounds=0, order=[],
                        containerd_userns_check=None)
            with open(os.path.join(run_dir, "meta.json"), "w") as f:
                json.dump(meta, f)
            page = mr.render(tmp)
        self.assertIn("2.50 ms, the median of the repetitions' means, met.",
                      page)
        self.assertNotIn("| goal |", page)
        self.assertNotIn("pods one after another", page)

    def containers_run(self, tmp, with_reports=True, old=False):
        """A containers-only run in tmp: meta.json from the synthetic run's,
        and the four reports under testdata/containers/ (one round); `old`:
        as before crun, floors and memory (the runc pair only, without
        them)."""
        run_dir = os.path.join(tmp, RUN_ID)
        os.mkdir(run_dir)
        order = ["containerd", "podsandboxd"]
        if not old:
            order += ["podsandboxd-crun", "containerd-crun"]
        if with_reports:
            for side in order:
                name = f"{side}.containers.r01.json"
                with open(os.path.join(CONTAINERS_TESTDATA, name)) as f:
                    report = json.load(f)
                if old:
                    report.pop("memory", None)
                    report["samples_ms"].pop("runtime_exec", None)
                    report["samples_ms"].pop("runtime_create_start", None)
                with open(os.path.join(run_dir, name), "w") as f:
                    json.dump(report, f)
        with open(os.path.join(TESTDATA, RUN_ID, "meta.json")) as f:
            meta = json.load(f)
        meta.update(parts=["containers"], sides=[], rounds=0, order=[],
                    containerd_userns_check=None, pause=None,
                    containers={"rounds": 1, "iterations": 3,
                                "image": "127.0.0.1:5000/bench/busybox:v1",
                                "built": None,
                                "order": [order]})
        with open(os.path.join(run_dir, "meta.json"), "w") as f:
            json.dump(meta, f)

    def test_containers_goals_are_judged_against_containerd(self):
        with tempfile.TemporaryDirectory() as tmp:
            self.containers_run(tmp)
            complete, incomplete = mr.load_runs(tmp)
            self.assertEqual(incomplete, [])
            self.assertEqual(complete[0]["expected_loads"], 4)
            page = mr.render(tmp)
        # Create+Start p50 60 / 70 ms = 0.86x <= 0.9x.
        self.assertIn("| CreateContainer + StartContainer p50 (ms) | 60.0 | "
                      "70.0 | 0.86x | <= 0.9x, met |", page)
        # Stop+Remove 30 / 50 = 0.6x > 0.5x.
        self.assertIn("| StopContainer + RemoveContainer p50 (ms) | 30.0 | "
                      "50.0 | 0.60x | <= 0.5x, **not met** |", page)
        # ExecSync: the unsorted samples' nearest-rank p50, 15 / 30.
        self.assertIn("| ExecSync (`true`) p50 (ms) | 15.0 | 30.0 | 0.50x | "
                      "<= 0.7x, met |", page)
        # 3-container pod 210 / 290 = 0.72x <= 0.75x.
        self.assertIn("| 3-container pod, RunPodSandbox to all running p50 "
                      "(ms) | 210.0 | 290.0 | 0.72x | <= 0.75x, met |", page)
        # No goal on the single RPCs; p99 over 3 samples is the max.
        self.assertIn("| StartContainer p99 (ms) | 56.0 (max) | 70.0 (max) | "
                      "0.80x |  |", page)
        self.assertIn("| RPC errors | 0 | 1 | | |", page)
        self.assertIn("1. containerd, podsandboxd, podsandboxd-crun, "
                      "containerd-crun", page)
        self.assertNotIn("| goal |", page.split("#### Containers")[0])

    def test_the_runtime_by_hand_is_the_floor_of_its_rpc(self):
        with tempfile.TemporaryDirectory() as tmp:
            self.containers_run(tmp)
            page = mr.render(tmp)
        runc, crun = page.split("#### Containers on crun")
        # runc by hand: create+start p50 50 ms (45, 57, 50); ours 60: 10 ms
        # over it, more than the 5 ms allowed.
        self.assertIn("| runc create + start by hand, a copy of the same "
                      "bundle p50 (ms) | 50.0 | | | |", runc)
        self.assertIn("| CreateContainer + StartContainer p50 over runc's own "
                      "(ms) | 10.0 | | | <= 5 ms, **not met** |", runc)
        # exec by hand 12 ms, ExecSync 15: 3 ms over it (no goal of its own);
        # exec --detach until the process is gone 11 ms: 4 ms over it.
        self.assertIn("| runc exec by hand, the same process.json p50 (ms) | "
                      "12.0 | | | |", runc)
        self.assertIn("| ExecSync (`true`) p50 over runc's own (waiting "
                      "itself) (ms) | 3.0 | | |  |", runc)
        self.assertIn("| ExecSync (`true`) p50 over runc's own --detach (ms) "
                      "| 4.0 | | |  |", runc)
        # The second exec: 13 / 26 ms; crun's reports have none: no row.
        self.assertIn("| ExecSync (`true`) again, same container p50 (ms) | "
                      "13.0 | 26.0 | 0.50x |  |", runc)
        self.assertNotIn("ExecSync (`true`) again", crun)
        self.assertIn("| ExecSync (`true`) p50 over crun's own (ms) | 1.0 | "
                      "| |  |", crun)
        # crun: 22 over 19 ms; beside containerd on crun (22 / 30 = 0.73x,
        # ExecSync 6 / 10 = 0.60x).
        self.assertIn("| CreateContainer + StartContainer p50 over crun's own "
                      "(ms) | 3.0 | | | <= 5 ms, met |", crun)
        self.assertIn("| podsandboxd (crun) | containerd 1.6 (crun) |", crun)
        self.assertIn("| CreateContainer + StartContainer p50 (ms) | 22.0 | "
                      "30.0 | 0.73x | <= 0.9x, met |", crun)
        self.assertIn("| ExecSync (`true`) p50 (ms) | 6.0 | 10.0 | 0.60x | "
                      "<= 0.7x, met |", crun)

    def test_exec_bound_names_the_runtime_floor_and_the_first_exec(self):
        def p50(v):
            return {50: v}
        ours = {"exec_sync": p50(19.4), "exec_sync_again": p50(12.9),
                "runtime_exec": p50(11.7), "runtime_exec_detach": p50(12.3),
                "start": p50(4.2)}
        peer = {"exec_sync": p50(17.1), "exec_sync_again": p50(14.6),
                "start": p50(39.4)}
        # 0.7 x 17.1 = 12.0 ms; runc's own 11.7 (the faster) = 0.68x; again
        # 12.9 = 1.2 over it, 0.88x of 14.6; first 6.5 more, containerd's
        # 2.5 more.
        self.assertEqual(mr.exec_bound(ours, peer, "runc"), [
            "ExecSync goal not met (runc): 0.7x containerd's 17.1 ms is "
            "12.0 ms; runc's own exec by hand (the faster of waiting itself "
            "and --detach, not the container's first exec) is 11.7 ms, "
            "0.68x containerd's ExecSync. A second ExecSync in the same "
            "container takes 12.9 ms (0.88x containerd's 14.6), 1.2 ms over "
            "runc's own; the container's first exec 6.5 ms more "
            "(containerd's 2.5 ms more; a pause before it makes every side's "
            "first exec slower, see the method notes).", ""])
        # Met: nothing to bound.
        ours["exec_sync"] = p50(11.0)
        self.assertEqual(mr.exec_bound(ours, peer, "runc"), [])

    def test_memory_per_pod_and_container_from_the_stages(self):
        with tempfile.TemporaryDirectory() as tmp:
            self.containers_run(tmp)
            page = mr.render(tmp)
        mem = page.split("#### Host memory per pod")[1]
        # containerd: a shim per pod, 5000 / 2 pods = 2500 KiB; the shims
        # grow (5800 - 5000) / 4 containers = 200 KiB and the daemon
        # (3410 - 3010) / 4 = 100 KiB per container.
        self.assertIn("| shims' private dirty per pod (KiB) | 0 (0-0) | "
                      "2500 (2500-2500) | 0 (0-0) | 2440 (2440-2440) |", mem)
        self.assertIn("| processes per pod beyond its pause | 0.0 (0.0-0.0) "
                      "| 1.0 (1.0-1.0) | 0.0 (0.0-0.0) | 1.0 (1.0-1.0) |", mem)
        # Ours: (1100 - 1020) / 4 = 20 KiB; crun's invented helper adds
        # (1820 - 1020 + 400) / 4 = 300 KiB and one process per container.
        self.assertIn("| host memory per container beyond its own processes "
                      "(daemon + shims + other processes, private dirty, KiB) "
                      "| 20 (20-20) | 300 (300-300) | 300 (300-300) | "
                      "330 (330-330) |", mem)
        self.assertIn("| pipe and FIFO fds per container (daemon and shims) | "
                      "2.0 (2.0-2.0) | 16.0 (16.0-16.0)", mem)
        self.assertIn("| overlay mounts per pod | 0.0 (0.0-0.0) | "
                      "1.0 (1.0-1.0)", mem)
        self.assertIn("Goal (runc): host memory per running container beyond "
                      "its own processes <= 250 KiB (0.1x containerd's shim "
                      "per pod: 250 KiB): 20 KiB, met; no process per pod or "
                      "container beyond the pause and the container's own: 0, "
                      "met.", mem)
        # 300 KiB > min(250, 0.1 x 2440); 1 process per container.
        self.assertIn("Goal (crun): host memory per running container beyond "
                      "its own processes <= 250 KiB (0.1x containerd's shim "
                      "per pod: 244 KiB): 300 KiB, **not met**; no process "
                      "per pod or container beyond the pause and the "
                      "container's own: 1, **not met**.", mem)

    def test_a_run_from_before_crun_floors_and_memory_renders_as_it_was(self):
        with tempfile.TemporaryDirectory() as tmp:
            self.containers_run(tmp, old=True)
            complete, _ = mr.load_runs(tmp)
            self.assertEqual(complete[0]["expected_loads"], 2)
            page = mr.render(tmp)
        self.assertNotIn("exec by hand", page)
        self.assertNotIn("#### Containers on crun", page)
        self.assertNotIn("#### Host memory per pod", page)
        self.assertIn("| ExecSync (`true`) p50 (ms) | 15.0 | 30.0 | 0.50x | "
                      "<= 0.7x, met |", page)

    def test_a_missing_containers_report_leaves_the_run_incomplete(self):
        with tempfile.TemporaryDirectory() as tmp:
            self.containers_run(tmp, with_reports=False)
            complete, incomplete = mr.load_runs(tmp)
        self.assertEqual(complete, [])
        self.assertEqual(incomplete[0]["load_count"], 0)
        self.assertEqual(incomplete[0]["expected_loads"], 4)

    def test_kernel_memory_per_pod_from_the_host_counters(self):
        # infra none + userns, 3 pods: the medians of the readings (one
        # "before" reading has a 9000 KiB burst, left out) grow by 600 KiB
        # (30 reclaimable slab), so 200 per pod, 10 reclaimable; PSS 10 per
        # pod, so 210 in all; memory cgroups 10 -> 13, 1 per pod.
        mem = self.stats[(mr.NOINFRA_USERNS, "seq")]["mem"]
        self.assertEqual(mem["kernel"], (200, 200, 200))
        self.assertEqual(mem["kernel_reclaimable"], (10, 10, 10))
        self.assertEqual(mem["host"], (210, 210, 210))
        self.assertEqual(mem["cgroups"], (1, 1, 1))
        # containerd: 2400 KiB (300 reclaimable) over 3 pods; PSS 210.
        mem = self.stats[(mr.PEER, "seq")]["mem"]
        self.assertEqual(mem["kernel"], (800, 800, 800))
        self.assertEqual(mem["kernel_reclaimable"], (100, 100, 100))
        self.assertEqual(mem["host"], (1010, 1010, 1010))
        self.assertEqual(mem["cgroups"], (2, 2, 2))
        # builtin + userns's report has no kernel figures.
        self.assertNotIn("kernel", self.stats[(mr.BUILTIN_USERNS, "seq")]["mem"])

    def test_kernel_memory_rows_with_containerds_ratio(self):
        table = "\n".join(mr.mode_table(self.run, "seq", self.stats))
        # Sides: builtin + userns (no figures: "-"), infra none + userns,
        # containerd; then the two ratio columns.
        self.assertIn("| kernel memory per pod (KiB: slab + percpu + kernel "
                      "stacks + page tables + shmem, host-wide growth), "
                      "median of rounds (range) | - | 200 (200-200) | "
                      "800 (800-800) | - | 0.250x |", table)
        self.assertIn("| host memory per pod, PSS + kernel (KiB) | - | "
                      "210 (210-210) | 1010 (1010-1010) | - | 0.208x |",
                      table)
        self.assertIn("of which reclaimable slab (KiB: dentries and inodes, "
                      "which other file activity moves too) | - | "
                      "10 (10-10) | 100 (100-100) | | |", table)
        self.assertIn("| memory cgroups per pod | - | 1.0 (1.0-1.0) | "
                      "2.0 (2.0-2.0) | | |", table)
        # Across runs: the row once a run has the figures (210 / 1010).
        across = "\n".join(mr.across_runs([(RUN_ID, self.stats)] * 2))
        self.assertIn("| host memory per pod, PSS + kernel | "
                      "none+userns 0.21x | none+userns 0.21x |", across)

    def test_a_run_without_kernel_figures_renders_as_before(self):
        with tempfile.TemporaryDirectory() as tmp:
            shutil.copytree(os.path.join(TESTDATA, RUN_ID),
                            os.path.join(tmp, RUN_ID))
            for side in (mr.NOINFRA_USERNS, mr.PEER):
                path = os.path.join(tmp, RUN_ID, f"{side}.seq.r01.json")
                with open(path) as f:
                    report = json.load(f)
                report["memory"].pop("kernel")
                with open(path, "w") as f:
                    json.dump(report, f)
            page = mr.render(tmp)
            run = mr.load_runs(tmp)[0][0]
        self.assertIn("| host memory per pod (KiB PSS: processes + daemon "
                      "growth), median of rounds (range) |", page)
        self.assertNotIn("kernel memory per pod (KiB", page)
        self.assertNotIn("| host memory per pod, PSS + kernel", page)
        self.assertNotIn("memory cgroups per pod", page)
        stats = {key: mr.summarize(reports)
                 for key, reports in run["loads"].items()}
        self.assertNotIn("PSS + kernel", "\n".join(
            mr.across_runs([(RUN_ID, stats)] * 2)))

    def test_committed_runs_render_and_the_page_is_current(self):
        results = os.path.join(HERE, "results")
        with open(os.path.join(HERE, "RESULTS.md")) as f:
            self.assertEqual(f.read(), mr.render(results))


if __name__ == "__main__":
    unittest.main()
