#!/usr/bin/env python3
"""bench-python: what the Python binding costs against the same calls made from C.

    python3 bench/bench-python.py [--build DIR] [--kb FILE | --synthetic N]
                                  [--rounds R] [--passes P] [--blocks B] [--seconds S]
                                  [--threads 1,2,4] [--c-no-memstatus] [--json]

On one KB and one set of texts it measures, in this process through the
`tshoot` module and in bench/bench-pyc (a C program on the public API, run as
a child process) the same work:

  search      kb.search(text) (limit 10) against tshoot_search + reading every
              result field + tshoot_results_free: mean time of one search over
              P passes of the queries; the median of R rounds in each of B blocks.
  next        a diagnosis walk per text (fixes off): next() then unknown() until
              the session concludes; mean time of one next(), and of one whole
              step (next + unknown).
  throughput  T threads (1, 2, 4) share one KB and search for S seconds:
              searches per second, Python threads against C threads.

C and Python blocks alternate, so that both see the same machine load; the
figures that matter are the ratios. The default KB is the build's Kerio KB
(BUILD/kb/tshoot.db) with the queries and descriptions below; --synthetic N
generates N articles with BUILD/bench/gen-kb (the search benchmark's corpus and
queries; that KB has no questions, so `next` is not measured).
Targets (issue 5): binding overhead under 20% of the C figure for a search;
throughput that grows with threads up to the number of cores.
"""
import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent

KERIO_QUERIES = [
    "kofmsp.dll", "outlook won't start ", "MAPI was unable to load the information service ",
    "outlook hangs on loading profile ", "kerio connector upgrade", "outlok profle ",
    "antivirus quarantined kofmsp", "64-bit office ", "Cannot open your default e-mail folders ",
    "kerio outlook connector offline edition ", "KofMsp32.dll missing", "windows update ",
    "cache corrupt ", "disk space low", "the set of folders cannot be opened ", "koff",
]
KERIO_WALKS = [
    "Outlook won't start after the update, something about kofmsp.dll",
    "Outlook hangs on loading profile since this morning",
    "MAPI was unable to load the information service KOFMSP.DLL after an Office update",
    "is kofmsp.dll a virus? it is loaded by svchost and uses high cpu",
    "Kerio Outlook Connector asks to upgrade every time Outlook starts",
]


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--build", default=str(ROOT / "build"),
                   help="the meson build folder (default: build/)")
    p.add_argument("--kb", help="a compiled KB (default: BUILD/kb/tshoot.db)")
    p.add_argument("--synthetic", type=int, metavar="N",
                   help="generate a synthetic KB of N articles instead (gen-kb)")
    p.add_argument("--rounds", type=int, default=5, help="timed passes per block (5)")
    p.add_argument("--passes", type=int, default=10,
                   help="passes over the queries per search round (10)")
    p.add_argument("--blocks", type=int, default=3, help="alternating C/Python blocks (3)")
    p.add_argument("--seconds", type=float, default=2.0,
                   help="seconds per throughput measurement (2)")
    p.add_argument("--threads", default="1,2,4", help="thread counts (1,2,4)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--c-no-memstatus", action="store_true",
                   help="also measure C throughput with SQLite's memory statistics off "
                        "(bench-pyc --sqlite-no-memstatus): what the library would gain")
    return p.parse_args()


def load_tshoot(build):
    sys.path.insert(0, str(pathlib.Path(build) / "bindings" / "python"))
    import tshoot
    return tshoot


def synthetic(tshoot, build, n, work):
    gen = pathlib.Path(build) / "bench" / "gen-kb"
    src, qfile, kb = work / "src", work / "queries.txt", work / "kb.db"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    subprocess.run([str(gen), "-n", str(n), "-o", str(src)], check=True, **quiet)
    subprocess.run([str(gen), "--queries", "200", "-o", str(qfile)], check=True, **quiet)
    tshoot.compile(src, kb)
    queries = []
    for line in qfile.read_text().splitlines():
        # as bench-kb: '*' marks a prefix query; others end in a space
        queries.append(line[:-1] if line.endswith("*") else line + " ")
    return str(kb), queries, []


def py_search_round(kb, queries, passes):
    t0 = time.perf_counter()
    for _ in range(passes):
        for q in queries:
            kb.search(q)
    return (time.perf_counter() - t0) / len(queries) / passes * 1e6


def py_walk_round(tshoot, kb, walks):
    t_next = t_step = 0.0
    steps = 0
    clock = time.perf_counter
    for text in walks:
        s = kb.session(text, fixes=False)
        for _ in range(40):
            t0 = clock()
            step = s.next()
            t1 = clock()
            if isinstance(step, (tshoot.Conclude, tshoot.Inconclusive)):
                t_next += t1 - t0
                t_step += t1 - t0
                steps += 1
                break
            s.unknown(step.question)
            t2 = clock()
            t_next += t1 - t0
            t_step += t2 - t0
            steps += 1
    return t_next / steps * 1e6, t_step / steps * 1e6, steps


def py_throughput(kb, queries, threads, seconds):
    counts = [0] * threads
    barrier = threading.Barrier(threads + 1)
    nq = len(queries)

    def work(k):
        i, n = k * nq // threads, 0
        barrier.wait()
        end = time.perf_counter() + seconds
        while True:
            for _ in range(16):
                kb.search(queries[i % nq])
                i += 1
            n += 16
            if time.perf_counter() >= end:
                break
        counts[k] = n

    ts = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
    for t in ts:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in ts:
        t.join()
    return sum(counts) / (time.perf_counter() - t0)


def run_c(pyc, kb_path, qfile, wfile, rounds, passes, threads, seconds, extra=()):
    cmd = [str(pyc), "--kb", kb_path, "--queries", str(qfile), "--rounds", str(rounds),
           "--passes", str(passes), "--threads", threads, "--seconds", str(seconds), *extra]
    if wfile:
        cmd += ["--walks", str(wfile)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main():
    args = parse_args()
    tshoot = load_tshoot(args.build)
    pyc = pathlib.Path(args.build) / "bench" / "bench-pyc"
    if not pyc.exists():
        sys.exit(f"bench-python: no {pyc}: build it (ninja -C {args.build} bench/bench-pyc)")
    threads = [int(t) for t in args.threads.split(",") if t.strip()]
    with tempfile.TemporaryDirectory(prefix="tshoot-bench-py-") as tmp:
        work = pathlib.Path(tmp)
        if args.synthetic:
            kb_path, queries, walks = synthetic(tshoot, args.build, args.synthetic, work)
        else:
            kb_path = args.kb or str(pathlib.Path(args.build) / "kb" / "tshoot.db")
            queries, walks = KERIO_QUERIES, KERIO_WALKS
        qfile, wfile = work / "queries.txt", (work / "walks.txt" if walks else None)
        qfile.write_text("".join(q + "\n" for q in queries))
        if wfile:
            wfile.write_text("".join(w + "\n" for w in walks))

        kb = tshoot.KB(kb_path)
        for q in queries:                      # warm up, as bench-pyc does
            kb.search(q)
        if walks:
            py_walk_round(tshoot, kb, walks[:1])

        c_search, py_search, c_next, py_next, c_step, py_step = [], [], [], [], [], []
        steps = 0
        for _ in range(args.blocks):
            c = run_c(pyc, kb_path, qfile, wfile, args.rounds, args.passes, "", args.seconds)
            c_search += c["search_us"]
            for n, st in c.get("next_us", []):
                c_next.append(n)
                c_step.append(st)
            for _ in range(args.rounds):
                py_search.append(py_search_round(kb, queries, args.passes))
            if walks:
                for _ in range(args.rounds):
                    n, st, steps = py_walk_round(tshoot, kb, walks)
                    py_next.append(n)
                    py_step.append(st)
                if steps != c["steps"]:
                    sys.exit(f"bench-python: the walks took {steps} steps in Python, "
                             f"{c['steps']} in C")

        c_tp, py_tp, c_nm, cpu = {}, {}, {}, {}
        for t in threads:
            c = run_c(pyc, kb_path, qfile, None, 1, 1, str(t), args.seconds)
            c_tp[t], cpu[t] = c["throughput"][str(t)], c["cpu"][str(t)]
            py_tp[t] = py_throughput(kb, queries, t, args.seconds)
            if args.c_no_memstatus:
                c_nm[t] = run_c(pyc, kb_path, qfile, None, 1, 1, str(t), args.seconds,
                                ["--sqlite-no-memstatus"])["throughput"][str(t)]
        info = kb.info
        kb.close()

    med = statistics.median
    res = {
        "kb": kb_path, "articles": info.articles, "queries": len(queries),
        "walks": len(walks), "steps": steps,
        "cores": len(os.sched_getaffinity(0)),
        "search_us": {"c": med(c_search), "python": med(py_search)},
        "throughput": {str(t): {"c": c_tp[t], "python": py_tp[t], "cpu_control": cpu[t]}
                       for t in threads},
    }
    for t in c_nm:
        res["throughput"][str(t)]["c_no_memstatus"] = c_nm[t]
    if walks:
        res["next_us"] = {"c": med(c_next), "python": med(py_next)}
        res["step_us"] = {"c": med(c_step), "python": med(py_step)}
    if args.json:
        print(json.dumps(res))
        return 0

    def row(name, d, target=""):
        over = (d["python"] / d["c"] - 1) * 100
        print(f"{name:<22}{d['c']:>10.1f} us{d['python']:>10.1f} us{over:>+10.1f}%  {target}")

    print(f"KB {kb_path}: {info.articles} articles; {len(queries)} queries"
          + (f", {len(walks)} walks ({steps} steps)" if walks else "")
          + f"; {res['cores']} cores")
    print(f"{'':<22}{'C':>13}{'Python':>13}{'overhead':>11}")
    row("search (mean)", res["search_us"], "target < +20%")
    if walks:
        row("next()", res["next_us"])
        row("step (next+unknown)", res["step_us"])
    print("\nthroughput, threads sharing one KB (searches/s); cpu: the machine's own "
          "scaling now (threads that only compute)")
    print(f"{'threads':<10}{'C':>12}{'x1':>7}{'Python':>12}{'x1':>7}{'Python/C':>10}"
          f"{'cpu x1':>8}" + (f"{'C no-memstatus':>17}{'x1':>7}" if c_nm else ""))
    for t in threads:
        c, p = c_tp[t], py_tp[t]
        extra = (f"{c_nm[t]:>17,.0f}{c_nm[t] / c_nm[threads[0]]:>7.2f}" if c_nm else "")
        print(f"{t:<10}{c:>12,.0f}{c / c_tp[threads[0]]:>7.2f}{p:>12,.0f}"
              f"{p / py_tp[threads[0]]:>7.2f}{p / c:>10.2f}{cpu[t] / cpu[threads[0]]:>8.2f}"
              + extra)
    return 0


if __name__ == "__main__":
    sys.exit(main())
