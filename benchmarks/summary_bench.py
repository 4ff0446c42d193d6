"""Benchmark `callwatch summary` against what a user would pick instead, in one run.

Generates a capture of envelope lines (default 1,000,000 events over the four vendors with a skewed,
realistic code mix, about 240 bytes a line) in a temporary directory, then times, interleaved over
several rounds:

  (a) `callwatch summary --json FILE` in a fresh process (start-up, imports and catalog loading count);
  (b) `jq -r '.vendor+" "+(.code|tostring)' FILE | sort | uniq -c` (skipped with a note without jq);
  (c) a bare orjson parse-and-count loop in this process (count by vendor, code, subcode), and the same
      loop with the catalog lookup added (performance-notes' "orjson-catalog" baseline).

It prints medians [min-max] of wall and CPU time, the paired ratios (summary vs jq, summary vs the bare
loop), the fixed start-up cost, and the peak RSS of the summary process for each size in --sizes (to
show memory stays flat). CPU time is per child process (os.wait4), so other load on the box disturbs
it much less than wall time. Targets (performance-notes.md): summary >= 4x faster than the jq pipeline,
and <= 1.3x the bare loop.

    python benchmarks/summary_bench.py                      # 1M events, 3 rounds
    python benchmarks/summary_bench.py --events 200000 --rounds 5
    python benchmarks/summary_bench.py --sizes 200000,1000000 --keep /tmp/captures
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]

# (vendor, code or (code, subcode), weight): weights give a Zipf-like skew, a few unknown codes included.
MIX: list[tuple[str, object, int]] = [
    ("planetkit", 1001, 300), ("planetkit", 1201, 80), ("planetkit", 1202, 60), ("planetkit", 1203, 60),
    ("planetkit", 1002, 40), ("planetkit", 1301, 30), ("planetkit", 1205, 8), ("planetkit", 1206, 6),
    ("planetkit", 1208, 4), ("planetkit", 1109, 4), ("planetkit", 1303, 3), ("planetkit", 1401, 2),
    ("planetkit", 1503, 1), ("planetkit", "NETWORK_UNSTABLE", 5), ("planetkit", 9999, 1),
    ("livekit", "CLIENT_INITIATED", 200), ("livekit", "CONNECTION_TIMEOUT", 30), ("livekit", "SIGNAL_CLOSE", 20),
    ("livekit", "ROOM_DELETED", 10), ("livekit", "JOIN_FAILURE", 8), ("livekit", "MEDIA_FAILURE", 6),
    ("livekit", 14, 5), ("livekit", "AGENT_ERROR", 2), ("livekit", "PARTICIPANT_REMOVED", 4),
    ("acs", (0, 0), 200), ("acs", (487, 10003), 30), ("acs", (487, 10004), 40), ("acs", (603, 0), 15),
    ("acs", (410, 3101), 10), ("acs", (490, 4502), 6), ("acs", (408, 10057), 5), ("acs", (480, 10037), 5),
    ("acs", (0, 560000), 12), ("acs", (500, 999999), 1),
    ("jssip", "Terminated", 100), ("jssip", "Busy", 15), ("jssip", "Rejected", 12), ("jssip", "Canceled", 20),
    ("jssip", "No Answer", 10), ("jssip", "Unavailable", 8), ("jssip", "Connection Error", 4),
    ("jssip", "RTP Timeout", 3), ("jssip", "Something New", 1),
]
SOURCES = {"planetkit": ["1", "2", "3", "4"], "jssip": ["local", "remote", "system"], "livekit": [None],
           "acs": [None]}
REGIONS = ["jp-east", "jp-west", "kr-central", "us-east", "eu-west"]
ORIGINATORS = ["caller", "callee", "system"]


def generate(path: Path, events: int, seed: int = 7) -> None:
    """Write `events` envelope lines to `path`: about 240 bytes each, the shape of the capture that
    performance-notes.md measured (ts, vendor, call_id, code[, subcode], source, and a few fields the
    envelope keeps as extras)."""
    rng = random.Random(seed)
    choices = rng.choices(MIX, weights=[w for _, _, w in MIX], k=events)
    t0 = 1_752_489_600.0
    with open(path, "wb", buffering=1 << 20) as f:
        for i, (vendor, code, _w) in enumerate(choices):
            t0 += rng.expovariate(50.0)  # about 50 calls ending per second
            event: dict[str, object] = {
                "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t0)) + f".{int(t0 % 1 * 1e6):06d}Z",
                "vendor": vendor,
                "call_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            }
            if isinstance(code, tuple):
                event["code"], event["subcode"] = code
            else:
                event["code"] = code
            source = rng.choice(SOURCES[vendor])
            if source is not None:
                event["source"] = source
            event["call_type"] = "1:1" if rng.random() < 0.8 else "group"
            event["originator"] = ORIGINATORS[i % len(ORIGINATORS)]
            event["duration_ms"] = rng.randrange(0, 3_600_000)
            event["region"] = REGIONS[i % len(REGIONS)]
            event["trunk"] = f"SIP-TRUNK-{rng.randrange(1, 20):02d}"
            f.write(orjson.dumps(event))
            f.write(b"\n")


def run_child(cmd: list[str] | str, *, shell: bool = False, stdout: int | None = subprocess.PIPE
              ) -> tuple[float, float, int, bytes]:
    """(wall s, CPU s user+sys of the child and its reaped children, peak RSS KiB, stdout)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, shell=shell, stdout=stdout, stderr=subprocess.PIPE, env=env, cwd=ROOT)
    out = proc.stdout.read() if proc.stdout is not None else b""
    err = proc.stderr.read() if proc.stderr is not None else b""
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{cmd!r} failed ({proc.returncode}): {err.decode(errors='replace')[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, out


CATALOG_IMPORT = "import tui.domain.catalog"
CATALOG_LOAD = "import tui.domain.catalog as c; c.build_catalogs()"


def summary_cmd(path: Path) -> list[str]:
    return [sys.executable, "-m", "tui", "summary", "--json", str(path)]


def bare_loop(path: Path) -> tuple[float, float, int]:
    """orjson parse + count by (vendor, code, subcode): the minimal loop producing the same table's keys."""
    loads = orjson.loads
    counts: dict[tuple[object, ...], int] = {}
    w, c = time.perf_counter(), time.process_time()
    with open(path, "rb") as f:
        for line in f:
            o = loads(line)
            k = (o["vendor"], o.get("code"), o.get("subcode"))
            counts[k] = counts.get(k, 0) + 1
    return time.perf_counter() - w, time.process_time() - c, sum(counts.values())


def bare_catalog_loop(path: Path, catalogs: object) -> tuple[float, float, int]:
    """The bare loop plus the catalog lookup (what performance-notes calls orjson-catalog)."""
    loads = orjson.loads
    lookup = catalogs.lookup  # type: ignore[attr-defined]
    counts: dict[object, int] = {}
    w, c = time.perf_counter(), time.process_time()
    with open(path, "rb") as f:
        for line in f:
            o = loads(line)
            r = lookup(o["vendor"], o.get("code"), o.get("subcode"))
            key = (r.vendor, r.entry.key if r.entry is not None else (r.code, r.subcode))
            counts[key] = counts.get(key, 0) + 1
    return time.perf_counter() - w, time.process_time() - c, sum(counts.values())


def stats(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} [{min(values):.2f}-{max(values):.2f}]"


def ratio_stats(values: list[float]) -> str:
    return f"{statistics.median(values):.2f}x [{min(values):.2f}-{max(values):.2f}]"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="events in the timed capture")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (median [min-max])")
    parser.add_argument("--sizes", default="200000,1000000",
                        help="comma-separated capture sizes whose summary peak RSS is reported ('' to skip)")
    parser.add_argument("--keep", type=Path, help="write the captures here and keep them (default: a temp dir)")
    parser.add_argument("--json-out", type=Path, help="also write the raw figures as JSON")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(ROOT))
    from tui.domain.catalog import load_catalogs

    workdir = args.keep or Path(tempfile.mkdtemp(prefix="callwatch-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()} | {args.events})
        files: dict[int, Path] = {}
        for n in sizes:
            files[n] = workdir / f"capture-{n}.jsonl"
            if not files[n].exists():
                t = time.perf_counter()
                generate(files[n], n)
                print(f"generated {n:,} events ({files[n].stat().st_size / 1e6:.0f} MB) in "
                      f"{time.perf_counter() - t:.1f} s: {files[n]}", flush=True)
        tiny = workdir / "capture-1.jsonl"
        generate(tiny, 1)
        path = files[args.events]
        jq = shutil.which("jq")
        if jq is None:
            print("note: jq not found: the jq comparison is skipped")
        catalogs = load_catalogs()
        # Warm the page cache and check that every tool counts the same events.
        data = json.loads(run_child(summary_cmd(path))[3])
        _w, _c, bare_total = bare_loop(path)
        assert data["events"] == bare_total == args.events, (data["events"], bare_total)
        assert data["invalid"] == 0
        if jq:
            out = run_child(f"{jq} -r '.vendor+\" \"+(.code|tostring)' '{path}' | sort | uniq -c", shell=True)[3]
            jq_total = sum(int(line.split()[0]) for line in out.decode().splitlines())
            assert jq_total == args.events, jq_total

        names = ("summary", "startup", "catalogs", "jq", "bare", "bare+catalog")
        rows: dict[str, dict[str, list[float]]] = {k: {"wall": [], "cpu": [], "rss": []} for k in names}
        for r in range(args.rounds):
            order = list(names)
            order = order[r % len(order):] + order[: r % len(order)]  # rotate: no variant always first
            for name in order:
                if name == "summary":
                    w, c, rss, _ = run_child(summary_cmd(path))
                elif name == "startup":
                    w, c, rss, _ = run_child(summary_cmd(tiny))
                elif name == "catalogs":
                    # CPU of loading and validating the bundled YAML catalogs, net of importing the module.
                    w, c, rss, _ = run_child([sys.executable, "-c", CATALOG_LOAD])
                    w0, c0, _r, _ = run_child([sys.executable, "-c", CATALOG_IMPORT])
                    w, c, rss = w - w0, c - c0, 0
                elif name == "jq":
                    if not jq:
                        continue
                    w, c, rss, _ = run_child(f"{jq} -r '.vendor+\" \"+(.code|tostring)' '{path}' | sort | uniq -c",
                                             shell=True)
                elif name == "bare":
                    w, c, _n = bare_loop(path)
                    rss = 0
                else:
                    w, c, _n = bare_catalog_loop(path, catalogs)
                    rss = 0
                rows[name]["wall"].append(w)
                rows[name]["cpu"].append(c)
                rows[name]["rss"].append(rss)
            print(f"round {r + 1}/{args.rounds}: summary {rows['summary']['wall'][-1]:.2f} s wall, "
                  f"{rows['summary']['cpu'][-1]:.2f} s CPU", flush=True)

        n = args.events
        print()
        print(f"{n:,} events, {path.stat().st_size / 1e6:.0f} MB, {args.rounds} rounds (median [min-max]); "
              f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}")
        print(f"{'command':<34} {'wall s':>18} {'CPU s':>18} {'events/CPU-s':>13} {'peak RSS':>9}")
        labels = {
            "summary": "callwatch summary --json",
            "startup": "  (start-up: 1-event capture)",
            "catalogs": "  (of which catalog YAML loading)",
            "jq": "jq -r ... | sort | uniq -c",
            "bare": "bare orjson loop (in-process)",
            "bare+catalog": "bare loop + catalog lookup",
        }
        for name, label in labels.items():
            v = rows[name]
            if not v["wall"]:
                continue
            rate = f"{n / statistics.median(v['cpu']) / 1e3:,.0f}k" if name not in ("startup", "catalogs") else "-"
            rss = f"{statistics.median(v['rss']) / 1024:.0f} MB" if any(v["rss"]) else "-"
            print(f"{label:<34} {stats(v['wall']):>18} {stats(v['cpu']):>18} {rate:>13} {rss:>9}")
        print()
        s_cpu, s_wall = rows["summary"]["cpu"], rows["summary"]["wall"]
        results: dict[str, object] = {"events": n, "rounds": args.rounds, "rows": rows}
        if rows["jq"]["cpu"]:
            jq_cpu = [j / s for j, s in zip(rows["jq"]["cpu"], s_cpu)]
            jq_wall = [j / s for j, s in zip(rows["jq"]["wall"], s_wall)]
            print(f"summary vs jq pipeline:     {ratio_stats(jq_cpu)} faster (CPU), {ratio_stats(jq_wall)} (wall)"
                  f"   target >= 4x")
            results["jq_over_summary_cpu"] = jq_cpu
        bare_cpu = [s / b for s, b in zip(s_cpu, rows["bare"]["cpu"])]
        bare_wall = [s / b for s, b in zip(s_wall, rows["bare"]["wall"])]
        cat_cpu = [s / b for s, b in zip(s_cpu, rows["bare+catalog"]["cpu"])]
        print(f"summary / bare loop:        {ratio_stats(bare_cpu)} (CPU), {ratio_stats(bare_wall)} (wall)"
              f"   target <= 1.3x")
        print(f"summary / bare+catalog:     {ratio_stats(cat_cpu)} (CPU)")
        per_event = [(s - st) / n * 1e6 for s, st in zip(s_cpu, rows["startup"]["cpu"])]
        steady = [(s - st) / b for s, st, b in zip(s_cpu, rows["startup"]["cpu"], rows["bare"]["cpu"])]
        print(f"summary without start-up:   {stats(per_event)} us/event CPU; {ratio_stats(steady)} the bare loop")
        results.update(summary_over_bare_cpu=bare_cpu, summary_over_catalog_cpu=cat_cpu, steady_over_bare=steady)
        # What a cached catalog (e.g. a pickle, measured at about 5 ms to load) would give: a projection.
        cached = [s - cat for s, cat in zip(s_cpu, rows["catalogs"]["cpu"])]
        line = f"projection, catalogs cached:  summary {stats(cached)} s CPU = {ratio_stats([c / b for c, b in zip(cached, rows['bare']['cpu'])])} the bare loop"
        if rows["jq"]["cpu"]:
            line += f", {ratio_stats([j / c for j, c in zip(rows['jq']['cpu'], cached)])} faster than jq"
        print(line)
        results["projected_cached_catalogs_cpu"] = cached

        if len(sizes) > 1 or args.sizes:
            print()
            print("summary peak RSS by capture size (memory stays flat):")
            mem: dict[int, int] = {}
            for size in sizes:
                _w, _c, rss, _ = run_child(summary_cmd(files[size]))
                mem[size] = rss
                print(f"  {size:>10,} events: {rss / 1024:6.1f} MB")
            _w, _c, rss, _ = run_child(summary_cmd(tiny))
            print(f"  {1:>10,} event : {rss / 1024:6.1f} MB (start-up baseline)")
            results["rss_kib_by_size"] = mem
        if args.json_out:
            args.json_out.write_text(json.dumps(results, indent=2))
    finally:
        if args.keep is None:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
