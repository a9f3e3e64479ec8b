"""Validation never imports or runs submission code, and never imports torch."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

PROBE = textwrap.dedent(
    """\
    import json
    import sys

    from tooling.cli import main

    code = main(["validate", "--format", "json", "--output", sys.argv[2], sys.argv[1]])
    heavy = sorted(
        name for name in sys.modules
        if name.split(".")[0] in ("torch", "torchvision", "brainscore_vision", "models", "setup")
    )
    print(json.dumps({"code": code, "modules": heavy}))
    """
)


def write_booby_trapped(folder: Path, marker: Path) -> None:
    """Write a submission whose modules and setup.py create `marker` when run."""
    trap = f"open({str(marker)!r}, 'w').write('ran')\n"
    (folder / "models").mkdir(parents=True)
    (folder / "models" / "__init__.py").write_text(trap)
    (folder / "models" / "base_models.py").write_text(
        "import torch\n"
        + trap
        + textwrap.dedent(
            '''
            def get_model_list():
                return ["trap-model"]


            def get_model(name):
                return None


            def get_layers(name):
                return ["layer1"]


            def get_bibtex(model_identifier):
                return """@misc{trap, title={Trap}}"""
            '''
        )
    )
    (folder / "setup.py").write_text(trap + "from setuptools import setup\nsetup()\n")


def test_validate_runs_no_submission_code(tmp_path: Path) -> None:
    marker = tmp_path / "marker.txt"
    folder = tmp_path / "trap"
    write_booby_trapped(folder, marker)

    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(folder), str(tmp_path / "report.json")],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    outcome = json.loads(result.stdout.splitlines()[-1])

    assert outcome["modules"] == []
    assert not marker.exists()
    assert outcome["code"] == 0
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["submissions"][0]["models"] == [{"identifier": "trap-model", "kind": "base"}]
