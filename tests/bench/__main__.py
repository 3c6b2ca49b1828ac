"""`python -m tests.bench [--quick] [--case NAME ...] [--list]`: run cases, print a table, and
merge the figures into var/bench/results.json as {"<case>": {"<case>.<figure>": value}}."""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

from tests.bench import auth, bulk, callbacks, depth, floor, read, subscriptions, sustained, write
from tests.bench.harness import Options

Case = Callable[[Options], dict[str, float]]

# The registry: one module per case, each with run(options) -> figures and a DESCRIPTION.
CASES: dict[str, tuple[Case, str]] = {
    "read": (read.run, read.DESCRIPTION),
    "depth": (depth.run, depth.DESCRIPTION),
    "write": (write.run, write.DESCRIPTION),
    "bulk": (bulk.run, bulk.DESCRIPTION),
    "subscriptions": (subscriptions.run, subscriptions.DESCRIPTION),
    "callbacks": (callbacks.run, callbacks.DESCRIPTION),
    "sustained": (sustained.run, sustained.DESCRIPTION),
    "floor": (floor.run, floor.DESCRIPTION),
    "auth": (auth.run, auth.DESCRIPTION),
}
RESULTS = Path("var/bench/results.json")


def merge(path: Path, case: str, figures: dict[str, float]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    results = json.loads(path.read_text()) if path.exists() else {}
    results[case] = {**results.get(case, {}), **figures}
    path.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")


def table(rows: Sequence[tuple[str, float]]) -> str:
    width = max((len(name) for name, _ in rows), default=10)
    lines = [f"{'figure':<{width}}  {'value':>12}", f"{'-' * width}  {'-' * 12}"]
    lines += [f"{name:<{width}}  {value:>12.3f}" for name, value in rows]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="scripts/bench", description=__doc__)
    p.add_argument("--quick", action="store_true", help="smaller runs")
    p.add_argument("--case", action="append", choices=sorted(CASES), help="run only this case")
    p.add_argument("--list", action="store_true", help="list the cases and exit")
    p.add_argument("--results", type=Path, default=RESULTS, help=f"default {RESULTS}")
    args = p.parse_args(argv)
    if args.list:
        for name, (_, description) in CASES.items():
            print(f"{name}: {description}")
        return 0
    options = Options(quick=args.quick)
    all_rows: list[tuple[str, float]] = []
    failed: list[str] = []
    for name in args.case or list(CASES):
        run, _ = CASES[name]
        print(f"== {name}{' (quick)' if args.quick else ''}", file=sys.stderr, flush=True)
        started = time.monotonic()
        try:
            figures = run(options)
        except Exception:  # one broken case must not hide the others' figures
            traceback.print_exc()
            print(f"   {name} FAILED", file=sys.stderr, flush=True)
            failed.append(name)
            continue
        print(f"   done in {time.monotonic() - started:.1f}s", file=sys.stderr, flush=True)
        merge(args.results, name, figures)
        all_rows += sorted(figures.items())
    print(table(all_rows))
    print(f"(merged into {args.results})")
    if failed:
        print(f"FAILED: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
