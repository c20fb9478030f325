"""Install the optional extras into a tox env, each where the interpreter has wheels for it.

    python ci/tox_extras.py REPORT        (tox's commands_pre runs it with the env's python)

Each extra is installed on its own with ``uv pip install --no-build`` (wheels only: no
extension is compiled from source for an interpreter its authors do not ship yet). What could
not be installed is written to REPORT (JSON: extra -> one-line reason); the test suite skips
that extra's tests with the reason (``tests/conftest.py``, ``require_extra``), and
``ci/tox.sh`` prints it in the env's summary line. An extra that installs is tested: an
import that fails then is a test failure, never a skip.
"""

from __future__ import annotations

import json
import subprocess
import sys

#: extra -> what it needs (the extras of pyproject.toml that the tests use, and numpy for
#: the zero-copy array checks)
EXTRAS = {
    "dask": ["dask[dataframe]>=2025.1", "distributed>=2025.1", "fsspec>=2024.6"],
    "numpy": ["numpy>=1.26"],
    "rich": ["rich>=13"],
}


def reason(output: str) -> str:
    """The line of uv's output that says why (the first that names the problem)."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    for line in lines:
        low = line.lower()
        if "no wheels" in low or "no matching distribution" in low or "not satisfiable" in low \
                or "building source distributions is disabled" in low or "has no wheels" in low:
            return line.lstrip("×╰─▶ ").strip()
    return (lines[-1] if lines else "uv pip install failed").lstrip("×╰─▶ ").strip()


def main(report: str) -> int:
    missing: dict[str, str] = {}
    for extra, requirements in EXTRAS.items():
        cmd = ["uv", "pip", "install", "--python", sys.executable, "--no-build", *requirements]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            missing[extra] = reason(proc.stderr + proc.stdout)[:300]
            print(f"[tox_extras] {extra}: not installed: {missing[extra]}", file=sys.stderr)
        else:
            print(f"[tox_extras] {extra}: installed", file=sys.stderr)
    with open(report, "w", encoding="utf-8") as f:
        json.dump(missing, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
