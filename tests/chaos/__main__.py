"""`make chaos`: the chaos suite at full size (`python -m tests.chaos --help`)."""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from tests.chaos.run import ChaosPlan, run_chaos, write_result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make chaos", description=__doc__)
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument("--invalid-share", type=float, default=0.03)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--results", type=Path, default=Path("chaos-results"))
    parser.add_argument("--keep", action="store_true", help="keep the run's folder (logs, data)")
    args = parser.parse_args(argv)
    # On a 2-core machine the hub takes a document in about 20 ms with everything else running.
    drain = max(900.0, args.documents / 25)
    plan = ChaosPlan(args.documents, args.invalid_share, seed=args.seed, drain_timeout_s=drain)
    work = Path(tempfile.mkdtemp(prefix="chaos-"))
    print(f"chaos: run folder {work}")
    try:
        result = run_chaos(plan, work)
        path = write_result(result, args.results)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(result.report.render())
    for name in result.hubs_exited_on_their_own:
        print(f"FAILED: {name} exited without being stopped")
    print(f"chaos: {'FAILED' if result.failed else 'passed'}; figures in {path}")
    return 1 if result.failed else 0


if __name__ == "__main__":
    sys.exit(main())
