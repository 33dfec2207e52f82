"""`make test`: the suite on the embedded default, then again on PostgreSQL + Redis
where they answer on localhost, then the browser tests; prints which ran.

Each configuration is a separate pytest process (settings are read once per process).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
SERVICE_VARIABLES = ("DATABASE_URL", "REDIS_URL", "SEARCH_BACKEND", "HUB_DATA_DIR")


@dataclass
class Outcome:
    name: str
    code: int
    passed: int = 0
    failed: int = 0
    skipped: int = 0


def answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def run(name: str, extra_env: dict[str, str], args: list[str]) -> Outcome:
    env = {k: v for k, v in os.environ.items() if k not in SERVICE_VARIABLES}
    with tempfile.TemporaryDirectory(prefix="hub-test-") as data_dir:
        env.update(extra_env, HUB_DATA_DIR=data_dir)
        report = Path(data_dir) / "junit.xml"
        print(f"\n=== tests: {name} ===", flush=True)
        code = subprocess.call(
            [sys.executable, "-m", "pytest", f"--junitxml={report}", *args], cwd=ROOT, env=env
        )
        outcome = Outcome(name, code)
        if report.exists():
            suite = ET.parse(report).getroot()
            suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
            tests = int(suite.get("tests", 0))
            outcome.failed = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
            outcome.skipped = int(suite.get("skipped", 0))
            outcome.passed = tests - outcome.failed - outcome.skipped
    return outcome


def main() -> int:
    extra = sys.argv[1:]
    outcomes = [run("embedded (SQLite + in-memory layer + Whoosh)", {}, ["-m", "not e2e", *extra])]
    if answers("127.0.0.1", 5432) and answers("127.0.0.1", 6379):
        outcomes.append(
            run(
                "services (PostgreSQL + Redis)",
                {"DATABASE_URL": POSTGRES_URL, "REDIS_URL": REDIS_URL},
                ["-m", "not e2e", *extra],
            )
        )
    else:
        print(
            "\n=== tests: PostgreSQL/Redis not answering on localhost; that configuration is skipped ==="
        )
    # The browser tests run in their own process: Playwright's event loop and the
    # asyncio tests' loops collide in one.
    if Path("/usr/bin/chromium").exists() or shutil.which("chromium"):
        outcomes.append(
            run("browser (Chromium, embedded)", {}, ["-m", "e2e", "-p", "no:asyncio", *extra])
        )
    else:
        print(
            "\n=== tests: Chromium not installed; browser tests skipped (apt-get install chromium) ==="
        )
    print("\nconfigurations:")
    for outcome in outcomes:
        state = "ok" if outcome.code == 0 else f"FAILED (exit {outcome.code})"
        print(
            f"  {outcome.name}: {outcome.passed} passed, {outcome.failed} failed, "
            f"{outcome.skipped} skipped -> {state}"
        )
    passed = sum(o.passed for o in outcomes)
    failed = sum(o.failed for o in outcomes)
    skipped = sum(o.skipped for o in outcomes)
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    # pytest exit 5 means "no tests collected": a run that tested nothing is a failure.
    return 0 if all(o.code == 0 for o in outcomes) and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
