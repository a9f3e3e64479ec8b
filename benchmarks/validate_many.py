"""Time `validate` over many generated submissions.

Usage: python benchmarks/validate_many.py [--count 1000]

Each generated submission is a copy of the example ResNet-18 base model with its own
identifier, so that the run also checks identifiers across all of them. Prints the number
of submissions, the wall time of the validation alone and the time per submission.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from tooling.validation import validate_paths

EXAMPLE = Path(__file__).resolve().parents[1] / "submissions" / "example-resnet18"
IDENTIFIER = "example-resnet18-untrained"


def generate(root: Path, count: int) -> Path:
    submissions = root / "submissions"
    source = (EXAMPLE / "models" / "base_models.py").read_text()
    for index in range(count):
        folder = submissions / f"generated-{index:05d}"
        shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("__pycache__"))
        text = source.replace(IDENTIFIER, f"generated-model-{index:05d}")
        (folder / "models" / "base_models.py").write_text(text)
    return submissions


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000, help="submissions to generate")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as temporary:
        submissions = generate(Path(temporary), args.count)
        started = time.perf_counter()
        report = validate_paths([str(submissions)])
        seconds = time.perf_counter() - started

    problems = sum(len(submission.problems) for submission in report.submissions)
    print(
        f"validated {len(report.submissions)} submissions in {seconds:.2f} s "
        f"({1000 * seconds / max(len(report.submissions), 1):.2f} ms each), "
        f"{problems} problems"
    )
    return 0 if report.ok and problems == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
