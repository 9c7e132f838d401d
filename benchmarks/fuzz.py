"""The long tier of placeplan's fuzz suite: thousands of hostile cases, recorded in FUZZ.md.

Cases come from the Hypothesis strategies of ``tests/fuzzing.py`` (mutated bundled
scenarios given to ``validate``; short runs of perturbed scenarios; every
hand-written hostile file, to ``validate`` and to ``run``; command lines of every
command with good and bad values; runs killed with SIGKILL and run again). Each
case runs in a worker process, in a fresh folder, in-process through click's
``CliRunner`` (the ``kill`` cases in a subprocess of the worker), bounded in time
(``SIGALRM``; a worker that does not answer is killed) and in memory
(``RLIMIT_AS``). Every case must exit 0 or 2 without a traceback, within its
limits, and leave nothing half-written.

Usage::

    PYTHONPATH=. python benchmarks/fuzz.py --cases 10000 --seed 0 --workers 2
    PYTHONPATH=. python benchmarks/fuzz.py --replay /tmp/placeplan-fuzz/failures/CLASS.json

The result is written, atomically, to ``benchmarks/FUZZ.md``; every outcome to
``FAILURES/outcomes.jsonl`` and one reproducer (a case as JSON) per failure class
to ``FAILURES/``.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import os
import random
import re
import selectors
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import fuzzing as fz  # noqa: E402

WEIGHTS = {"validate": 0.62, "run": 0.10, "cli": 0.2785, "kill": 0.0015}
"""Shares of the generated cases by kind; the hostile catalogue is added whole."""


# ------------------------------------------------------------------------ generation

BATCH = 10
"""Cases per Hypothesis search (and per task given to a worker)."""


def search(kind: str, size: int, seed: int) -> list[fz.Case]:
    """One short Hypothesis search: ``size`` cases of ``kind``, reproducibly from ``seed``.

    Hypothesis explores around the examples it has made, so one long search yields
    near-duplicates; many short searches, each from its own seed, spread the cases.
    """
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hseed

    made: list[fz.Case] = []

    @hseed(seed)
    @settings(
        max_examples=size,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(fz.KINDS[kind]())
    def collect(case: fz.Case) -> None:
        made.append(case)

    collect()
    return made[:size]


def hostile_catalogue() -> list[fz.Case]:
    """Every hand-written hostile file, given to ``validate`` and to ``run``."""
    out = []
    for label in sorted(fz.HOSTILE_FILES):
        name, content = fz.HOSTILE_FILES[label]
        files = ((name, content), *fz._extra_files(label))
        out.append(fz.Case("hostile", label, files, ("validate", "{d}/" + name)))
        out.append(
            fz.Case(
                "hostile",
                label,
                files,
                ("run", "{d}/" + name, "-n", "1", "--seed", "1", "--out", "{d}/out", "-q"),
                ("{d}/out",),
            )
        )
    return out


def tasks(total: int, seed: int) -> list[dict]:
    """The work: the hostile catalogue case by case, then batches of generated cases.

    Each task is plain data: ``{"hostile": i}``, or ``{"kind", "seed", "size"}`` for a
    batch the worker generates itself (so generation runs in parallel too). The
    batch seeds follow from ``seed``, so the same arguments give the same cases.
    """
    fixed = len(hostile_catalogue())
    out: list[dict] = [{"hostile": i, "skip": 0} for i in range(fixed)]
    left = max(total - fixed, 0)
    counts = {k: round(left * w) for k, w in WEIGHTS.items()}
    counts["validate"] += left - sum(counts.values())
    for k, (kind, n) in enumerate(counts.items()):
        for b in range(0, n, BATCH):
            out.append(
                {
                    "kind": kind,
                    "size": min(BATCH, n - b),
                    "seed": (seed * 100 + k) * 1_000_003 + b // BATCH,
                    "skip": 0,
                }
            )
    random.Random(seed).shuffle(out)  # a run stopped early is still a fair sample
    return out


def task_cases(task: dict) -> list[fz.Case]:
    """The cases of a task."""
    if "hostile" in task:
        return [hostile_catalogue()[task["hostile"]]]
    return search(task["kind"], task["size"], task["seed"])


# ---------------------------------------------------------------------------- worker


def worker(args: argparse.Namespace) -> None:
    """Read tasks (JSON lines) on stdin; report each case's start and result on stdout."""
    reply = os.fdopen(os.dup(1), "w", buffering=1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    log = os.open(args.log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log, 2)
    cache = Path(args.cache)
    fz.good_run(cache)
    root = Path(args.work)
    for line in sys.stdin:
        task = json.loads(line)
        for i, case in enumerate(task_cases(task)):
            if i < task["skip"]:
                continue
            reply.write(json.dumps({"type": "start", "index": i, "case": case.to_json()}) + "\n")
            folder = Path(tempfile.mkdtemp(dir=root))
            try:
                outcome = fz.execute(
                    case, folder, cache, args.timeout, int(args.memory_gib * 2**30)
                )
            except Exception as exc:
                outcome = fz.Outcome(
                    exit_code=None,
                    seconds=0.0,
                    exception=type(exc).__name__,
                    failures=[f"harness error: {exc!r}"[:200]],
                )
            finally:
                for p in folder.rglob("*"):
                    if p.is_dir() and not p.is_symlink():
                        p.chmod(0o755)
                shutil.rmtree(folder, ignore_errors=True)
            reply.write(
                json.dumps(
                    {
                        "type": "result",
                        "exit_code": outcome.exit_code,
                        "seconds": outcome.seconds,
                        "failures": outcome.failures,
                        "signature": outcome.signature(case),
                        "exception": outcome.exception,
                        "where": outcome.where,
                        "peak_rss": outcome.peak_rss,
                        "output": outcome.output[-1500:] if outcome.failures else "",
                    }
                )
                + "\n"
            )
        reply.write(json.dumps({"type": "done"}) + "\n")


class Worker:
    """A worker process, its task, and the case it is running."""

    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.proc: subprocess.Popen | None = None
        self.task: dict | None = None
        self.case: fz.Case | None = None
        self.index = -1
        self.started = 0.0
        self.buffer = b""
        self.spawn()

    def spawn(self) -> None:
        cmd = [
            sys.executable,
            __file__,
            "--worker",
            "--timeout",
            str(self.args.timeout),
            "--memory-gib",
            str(self.args.memory_gib),
            "--cache",
            str(self.args.cache),
            "--work",
            str(self.args.work),
            "--log",
            str(self.args.failures / "worker.log"),
        ]
        env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONHASHSEED": "0", "MPLBACKEND": "Agg"}
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, cwd=self.args.work
        )
        os.set_blocking(self.proc.stdout.fileno(), False)
        self.buffer = b""
        self.case = None

    def send(self, task: dict) -> None:
        self.task, self.case, self.started = task, None, time.monotonic()
        self.proc.stdin.write((json.dumps(task) + "\n").encode())
        self.proc.stdin.flush()

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()
        self.spawn()


# ------------------------------------------------------------------------------ main


def slug(signature: str) -> str:
    """A file name for a failure class."""
    short = re.sub(r"[^a-z0-9]+", "-", signature.lower()).strip("-")[:70]
    return f"{short}-{hashlib.sha1(signature.encode()).hexdigest()[:6]}"


def run_all(args: argparse.Namespace) -> None:
    """Hand the tasks to the workers, collect every outcome, record the result."""
    started = time.perf_counter()
    for folder in (args.failures, args.work, args.cache):
        folder.mkdir(parents=True, exist_ok=True)
    pending = collections.deque(tasks(args.cases, args.seed))
    planned = sum(t.get("size", 1) for t in pending)
    workers = [Worker(args) for _ in range(args.workers)]
    selector = selectors.DefaultSelector()
    for w in workers:
        selector.register(w.proc.stdout, selectors.EVENT_READ, w)
    results: list[dict] = []
    log = (args.failures / "outcomes.jsonl").open("w", encoding="utf-8")
    hard = args.timeout + args.grace
    stopped = [False]

    def assign(w: Worker) -> None:
        if pending and args.max_seconds and time.perf_counter() - started > args.max_seconds:
            print(f"--max-seconds reached: {len(pending)} tasks not run", file=sys.stderr)
            pending.clear()
            stopped[0] = True
        if pending:
            w.send(pending.popleft())
        else:
            w.task = None

    def record(w: Worker, result: dict) -> None:
        case = w.case
        result.update({"kind": case.kind, "label": case.label, "command": case.command})
        results.append(result)
        log.write(json.dumps(result) + "\n")
        if result["signature"]:
            path = args.failures / f"{slug(result['signature'])}.json"
            size = sum(len(c) for _, c in case.files)
            if not path.exists() or size < json.loads(path.read_text()).get("_size", 1e18):
                payload = json.loads(case.to_json()) | {
                    "_size": size,
                    "_signature": result["signature"],
                }
                path.write_text(json.dumps(payload) + "\n", encoding="utf-8")
        done = len(results)
        if done % 1000 == 0:
            write_report(args, planned, results, time.perf_counter() - started, partial=True)
        if done % 200 == 0:
            failed = sum(1 for r in results if r["signature"])
            rate = done / (time.perf_counter() - started)
            print(
                f"{done}/{planned} done, {failed} failed, {rate:.1f} cases/s",
                file=sys.stderr,
                flush=True,
            )

    def lost(w: Worker, why: str) -> None:
        """The worker died or hung on its current case: record it, requeue the rest."""
        if w.case is not None:
            record(
                w,
                {
                    "exit_code": None,
                    "seconds": time.monotonic() - w.started,
                    "failures": [why],
                    "signature": f"{w.case.command}: {why}",
                    "exception": "",
                    "where": "",
                    "peak_rss": 0,
                    "output": "",
                },
            )
            pending.appendleft(w.task | {"skip": w.index + 1})
        elif w.task is not None:
            pending.appendleft(w.task)

    for w in workers:
        assign(w)
    while any(w.task is not None for w in workers):
        for key, _ in selector.select(timeout=1.0):
            w: Worker = key.data
            chunk = w.proc.stdout.read()
            if chunk is None:
                continue
            if chunk == b"":
                selector.unregister(w.proc.stdout)
                code = w.proc.wait()
                lost(w, f"worker died ({code})")
                w.spawn()
                selector.register(w.proc.stdout, selectors.EVENT_READ, w)
                assign(w)
                continue
            w.buffer += chunk
            while b"\n" in w.buffer and w.task is not None:
                line, w.buffer = w.buffer.split(b"\n", 1)
                message = json.loads(line)
                if message["type"] == "start":
                    w.case = fz.Case.from_json(message["case"])
                    w.index, w.started = message["index"], time.monotonic()
                elif message["type"] == "result":
                    message.pop("type")
                    record(w, message)
                    w.case = None
                else:
                    assign(w)
        now = time.monotonic()
        for w in workers:
            if w.task is not None and w.case is not None and now - w.started > hard:
                selector.unregister(w.proc.stdout)
                lost(w, "timeout (worker killed)")
                w.kill()
                selector.register(w.proc.stdout, selectors.EVENT_READ, w)
                assign(w)
    for w in workers:
        w.proc.stdin.close()
        w.proc.wait()
    log.close()
    write_report(args, planned, results, time.perf_counter() - started, partial=stopped[0])


def write_report(args, planned, results, elapsed, partial=False) -> None:
    """Write FUZZ.md atomically."""
    by_kind = collections.Counter(r["kind"] for r in results)
    exits = collections.defaultdict(collections.Counter)
    for r in results:
        exits[r["kind"]][str(r["exit_code"])] += 1
    classes = collections.Counter(r["signature"] for r in results if r["signature"])
    kinds_failed = collections.Counter(r["kind"] for r in results if r["signature"])
    failed = sum(classes.values())
    crashes = sum(
        1
        for r in results
        if r["signature"]
        and (r["exit_code"] not in (0, 2, None) or "traceback" in r["failures"][:1])
    )
    timeouts = sum(1 for r in results if any("timeout" in f for f in r["failures"]))
    memory = sum(1 for r in results if "memory" in r["failures"])
    half = sum(
        1
        for r in results
        if any(
            "run folder" in f or "half-written" in f or "different runs" in f or "temp file" in f
            for f in r["failures"]
        )
    )
    peak = max((r["peak_rss"] for r in results), default=0)
    slowest = sorted(results, key=lambda r: -r["seconds"])[:5]
    command = (
        f"PYTHONPATH=. python benchmarks/fuzz.py --cases {args.cases} --seed {args.seed} "
        f"--workers {args.workers} --timeout {args.timeout:g} "
        f"--memory-gib {args.memory_gib:g}"
        + (f" --max-seconds {args.max_seconds:g}" if args.max_seconds else "")
    )
    lines = [
        "# Fuzz suite: long tier",
        "",
        "Written by `benchmarks/fuzz.py` (do not edit by hand). The contract checked for every",
        "case: exit 0 or 2 and no traceback; within the time limit and the memory limit; and",
        "nothing half-written (an output folder holds nothing or one complete run folder whose",
        "files belong to one run; no `.*.tmp` file after a clean exit; after a SIGKILL, no",
        "truncated file under a final name, and a clean rerun leaves a whole folder).",
        "",
        *(["**Partial: stopped before every planned case had run.**", ""] if partial else []),
        f"- Reproduce: `{command}`",
        f"- placeplan at commit `{_git_head()}`; Python {sys.version.split()[0]}; "
        f"{os.cpu_count()} cores",
        f"- Cases run: **{len(results)}** of {planned}; failed: **{failed}** "
        f"({failed / max(len(results), 1):.1%}) in **{len(classes)}** classes",
        f"- Crashes (exit other than 0/2, or a traceback): {crashes}; timeouts: {timeouts}; "
        f"over the memory limit: {memory}; half-written or stray files: {half}",
        f"- Time: {elapsed:.0f} s in all (cases generated by the workers), "
        f"{args.workers} workers; per-case limit {args.timeout:g} s "
        f"(worker killed after {args.timeout + args.grace:g} s)",
        f"- Peak memory (resident, one case): {peak / 2**20:.0f} MiB; address-space limit "
        f"per case: {args.memory_gib:g} GiB above the worker's size",
        "",
        "## Cases by kind",
        "",
        "| kind | cases | failed | exit codes |",
        "|---|---:|---:|---|",
    ]
    for kind in sorted(by_kind):
        codes = ", ".join(f"{c}: {n}" for c, n in sorted(exits[kind].items()))
        lines.append(f"| {kind} | {by_kind[kind]} | {kinds_failed[kind]} | {codes} |")
    lines += [
        "",
        "## Failures by class",
        "",
        "`None` as an exit code: the case was stopped (time or memory limit). Reproducer:",
        "`python benchmarks/fuzz.py --replay FILE` with the file named in "
        f"`{args.failures}` (not kept in the repository).",
        "",
        "| cases | class | reproducer |",
        "|---:|---|---|",
    ]
    for sig, n in classes.most_common():
        lines.append(f"| {n} | {sig.replace('|', '/')} | `{slug(sig)}.json` |")
    lines += [
        "",
        "## Slowest cases",
        "",
        "| seconds | kind | label | class |",
        "|---:|---|---|---|",
    ]
    for r in slowest:
        lines.append(
            f"| {r['seconds']:.1f} | {r['kind']} | {r['label'][:60].replace('|', '/')} "
            f"| {r['signature'] or 'ok'} |"
        )
    text = "\n".join(lines) + "\n"
    target = Path(args.report)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, target)
    finally:
        Path(tmp).unlink(missing_ok=True)
    if not partial:
        print(f"wrote {target}", file=sys.stderr)


def _git_head() -> str:
    if os.environ.get("PLACEPLAN_COMMIT"):
        return os.environ["PLACEPLAN_COMMIT"]
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def replay(args: argparse.Namespace) -> int:
    """Run one case from a reproducer file and print what happened."""
    raw = json.loads(Path(args.replay).read_text(encoding="utf-8"))
    raw = {k: v for k, v in raw.items() if not k.startswith("_")}
    case = fz.Case.from_json(json.dumps(raw))
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="placeplan-fuzz-"))
    folder.mkdir(parents=True, exist_ok=True)
    outcome = fz.execute(case, folder, args.cache, args.timeout, int(args.memory_gib * 2**30))
    print(f"case folder: {folder}")
    print("command: placeplan " + " ".join(fz._fill(a, folder) for a in case.argv))
    print(f"exit code: {outcome.exit_code}; {outcome.seconds:.2f} s")
    print(outcome.output)
    print("verdict:", "ok" if outcome.ok else "; ".join(outcome.failures))
    return 0 if outcome.ok else 1


def main(argv: list[str] | None = None) -> int:
    """Command line of the long tier."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--cases", type=int, default=10_000, help="cases in all (at least ~120)")
    p.add_argument("--seed", type=int, default=0, help="seed of the case generation")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--timeout", type=float, default=20.0, help="per-case limit [s]")
    p.add_argument(
        "--grace",
        type=float,
        default=40.0,
        help="extra seconds before a silent worker is killed [s]",
    )
    p.add_argument("--memory-gib", type=float, default=4.0, help="per-case RLIMIT_AS [GiB]")
    p.add_argument(
        "--max-seconds",
        type=float,
        default=0.0,
        help="stop starting cases after this long [s] (0: no limit)",
    )
    p.add_argument("--report", default=str(ROOT / "benchmarks" / "FUZZ.md"))
    tmp = Path(tempfile.gettempdir()) / "placeplan-fuzz"
    p.add_argument("--failures", type=Path, default=tmp / "failures")
    p.add_argument("--work", type=Path, default=tmp / "work")
    p.add_argument("--cache", type=Path, default=tmp / "cache")
    p.add_argument("--replay", help="run one reproducer (a case as JSON) and print it")
    p.add_argument("--keep", help="with --replay: lay the case out in this folder")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--log", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        worker(args)
        return 0
    if args.replay:
        return replay(args)
    run_all(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
