"""Tests for the scoring worker: package checks, storage, resuming and scoring once.

These use a small runner function in place of the mock-score runner, so they check the
worker's own logic in milliseconds. tests/test_merge_e2e.py runs the real runner.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from tooling.cli import main
from tooling.errors import FatalError
from tooling.packaging import MANIFEST_NAME, build_package
from tooling.problems import Problem
from tooling.reports import SubmissionReport
from tooling.scoring import unpack
from tooling.scoring.store import FAILED, SCORED, Store
from tooling.scoring.unpack import check_package, extract_package
from tooling.scoring.worker import WorkerSettings, pair_result, score_package

BASE_MODELS = (
    "def get_model_list():\n"
    "    return ['net-a', 'net-b']\n\n\n"
    "def get_model(name):\n"
    "    raise NotImplementedError\n\n\n"
    "def get_layers(name):\n"
    "    return ['relu']\n\n\n"
    "def get_bibtex(model_identifier):\n"
    "    return ''\n"
)


def make_submission(folder: Path) -> Path:
    files = {
        "models/__init__.py": "",
        "models/base_models.py": BASE_MODELS,
        "setup.py": "from setuptools import setup\nsetup(name='pair')\n",
    }
    for name, content in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(content)
    return folder


@pytest.fixture
def package(tmp_path: Path) -> Path:
    folder = make_submission(tmp_path / "pair")
    return build_package(folder, tmp_path / "packages", commit="c" * 40).path


class FakeRunner:
    """A runner that records its calls and returns a fixed mock score per model."""

    def __init__(self, crash_on: tuple[str, str] | None = None) -> None:
        self.calls: list[tuple[str, str]] = []
        self.crash_on = crash_on

    def __call__(self, folder: Path, display: str, **options: Any) -> SubmissionReport:
        models = options["models"] or ["net-x", "net-y"]
        benchmark = options["benchmark"]
        self.calls.append((",".join(options["models"] or ["*"]), benchmark))
        self.secrets_seen = [name for name in os.environ if "TOKEN" in name]
        self.environment_names = set(os.environ)
        self.cache_dir = options["cache_dir"]
        if (models[0], benchmark) == self.crash_on:
            # Stands in for the worker being killed: nothing after this point runs.
            raise SystemExit("killed")
        if benchmark != "mock":
            problem = Problem(
                "benchmark-unavailable", f"the benchmark {benchmark!r} could not be loaded"
            )
            return SubmissionReport(display, problems=[problem])
        assert (folder / "models" / "base_models.py").is_file()
        regions = {
            region: {"layer": "relu", "raw": 0.4, "ceiling": 0.8, "ceiled": 0.5}
            for region in ("V1", "V2", "V4", "IT")
        }
        entries = [
            {"identifier": model, "kind": "base", "ok": True, "regions": regions}
            for model in models
        ]
        return SubmissionReport(display, models=entries)


def settings_for(tmp_path: Path, runner: FakeRunner, *benchmarks: str) -> WorkerSettings:
    store = Store(f"sqlite:///{tmp_path / 'scores.sqlite'}")
    return WorkerSettings(
        home=tmp_path / "home", store=store, benchmarks=benchmarks or ("mock",), runner=runner
    )


def write_zip(path: Path, entries: list[tuple[zipfile.ZipInfo | str, bytes]]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for info, data in entries:
            archive.writestr(info, data)
    return path


def manifest_for(root: str, files: dict[str, bytes]) -> bytes:
    import hashlib

    manifest = {
        "format": 1,
        "submission": root,
        "models": ["net-a"],
        "source_commit": None,
        "tooling_version": "0",
        "files": {name: hashlib.sha256(data).hexdigest() for name, data in files.items()},
    }
    return json.dumps(manifest).encode()


def digests_manifest(digests: dict[str, Any]) -> bytes:
    manifest = json.loads(manifest_for("pair", {}))
    manifest["files"] = digests
    return json.dumps(manifest).encode()


def link_entry(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = 0o120777 << 16
    return info


UNSAFE_PACKAGES = [
    pytest.param([("../evil.py", b"x")], "'..' or '.' in a package entry", id="parent-entry"),
    pytest.param(
        [("pair/../../evil.py", b"x")], "'..' or '.' in a package entry", id="nested-parent-entry"
    ),
    pytest.param([("/tmp/evil.py", b"x")], "absolute path in the package", id="absolute"),
    pytest.param([("C:/evil.py", b"x")], "absolute path in the package", id="drive"),
    pytest.param([("pair\\..\\evil.py", b"x")], "unsafe entry name", id="backslash"),
    pytest.param(
        [(link_entry("pair/models/link"), b"/etc/passwd")],
        "symbolic link in the package",
        id="link",
    ),
    pytest.param([("pair/a.py", b"x"), ("other/b.py", b"y")], "one root folder", id="two-roots"),
    pytest.param([("pair/a.py", b"x"), ("pair/a.py", b"y")], "duplicate entry", id="duplicate"),
    pytest.param(
        [("pair/a", b"x"), ("pair/a/b.py", b"y")],
        "both a file and a folder",
        id="file-folder-clash",
    ),
    pytest.param([("pair/a.py", b"x")], "missing manifest", id="no-manifest"),
    pytest.param(
        [("pair/a.py", b"x"), (f"pair/{MANIFEST_NAME}", manifest_for("pair", {}))],
        "do not match the manifest",
        id="unlisted-file",
    ),
    pytest.param(
        [
            ("pair/a.py", b"x"),
            (f"pair/{MANIFEST_NAME}", manifest_for("pair", {"a.py": b"changed"})),
        ],
        "sha256 mismatch for a.py",
        id="wrong-file-hash",
    ),
    pytest.param(
        [("pair/a.py", b"x"), (f"pair/{MANIFEST_NAME}", digests_manifest({"a.py": None}))],
        "not 64 lowercase hex characters",
        id="null-digest",
    ),
    pytest.param(
        [("pair/a.py", b"x"), (f"pair/{MANIFEST_NAME}", digests_manifest({"a.py": "AB" * 32}))],
        "not 64 lowercase hex characters",
        id="uppercase-digest",
    ),
    pytest.param(
        [(f"pair/models/f{index}.py", b"") for index in range(10_001)],
        "too many entries in the package, 10001",
        id="too-many-entries",
    ),
]


@pytest.mark.filterwarnings("ignore:Duplicate name")
@pytest.mark.parametrize(("entries", "message"), UNSAFE_PACKAGES)
def test_score_rejects_unsafe_package(
    tmp_path: Path, entries: list[Any], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_zip(tmp_path / "unsafe.zip", entries)
    home = tmp_path / "home"
    code = main(["score", str(path), "--home", str(home), "--no-notify"])
    assert code == 1
    assert message in capsys.readouterr().err
    assert not (tmp_path / "evil.py").exists()
    assert not Path("/tmp/evil.py").exists() or Path("/tmp/evil.py").stat().st_size != 1


def test_score_stores_rejected_package(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "unsafe.zip", [("../evil.py", b"x")])
    runner = FakeRunner()
    settings = settings_for(tmp_path, runner)
    with pytest.raises(FatalError):
        score_package(path, settings, {"author": "alice", "submission": "unsafe"})
    from tooling.packaging import sha256_of_file

    stored = settings.store.get_submission(sha256_of_file(path))
    assert stored.status == FAILED
    assert "package rejected" in stored.error
    assert runner.calls == []


def test_score_rejects_sha256_mismatch(
    package: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "score",
            str(package),
            "--home",
            str(tmp_path / "home"),
            "--sha256",
            "0" * 64,
            "--no-notify",
        ]
    )
    assert code == 1
    assert "sha256 mismatch" in capsys.readouterr().err


def test_extract_package_files(package: Path, tmp_path: Path) -> None:
    checked = check_package(package)
    folder = extract_package(checked, tmp_path / "sandbox")
    assert folder == tmp_path / "sandbox" / "pair"
    assert (folder / "models" / "base_models.py").read_text() == BASE_MODELS
    assert not (tmp_path / "sandbox" / ".pair.partial").exists()


def test_score_stores_every_pair(package: Path, tmp_path: Path) -> None:
    runner = FakeRunner()
    settings = settings_for(tmp_path, runner, "mock", "NoSuchLab2099.IT-pls")
    outcome = score_package(package, settings, {"author": "alice", "pull_request": 7})
    rows = {(row.model, row.benchmark): row for row in settings.store.scores(outcome.key)}
    assert outcome.status == SCORED
    assert sorted(rows) == [
        ("net-a", "NoSuchLab2099.IT-pls"),
        ("net-a", "mock"),
        ("net-b", "NoSuchLab2099.IT-pls"),
        ("net-b", "mock"),
    ]
    assert rows["net-a", "mock"].ceiled == pytest.approx(0.5)
    assert rows["net-a", "mock"].raw == pytest.approx(0.4)
    assert rows["net-a", "mock"].ceiling == pytest.approx(0.8)
    assert rows["net-a", "mock"].error is None
    assert rows["net-a", "mock"].finished_at >= rows["net-a", "mock"].started_at
    assert "could not be loaded" in rows["net-b", "NoSuchLab2099.IT-pls"].error
    assert rows["net-b", "NoSuchLab2099.IT-pls"].ceiled is None


def test_score_same_package_once(package: Path, tmp_path: Path) -> None:
    runner = FakeRunner()
    settings = settings_for(tmp_path, runner)
    first = score_package(package, settings)
    second = score_package(package, settings)
    assert first.scored_now
    assert not second.scored_now
    assert second.status == SCORED
    assert runner.calls == [("net-a", "mock"), ("net-b", "mock")]


def test_score_resumes_after_crash(package: Path, tmp_path: Path) -> None:
    crashing = FakeRunner(crash_on=("net-b", "mock"))
    settings = settings_for(tmp_path, crashing)
    with pytest.raises(SystemExit):
        score_package(package, settings)
    key = check_package(package).key
    before = {row.model: row for row in settings.store.scores(key)}

    resumed = FakeRunner()
    settings.runner = resumed
    outcome = score_package(package, settings)
    after = {row.model: row for row in settings.store.scores(key)}
    assert outcome.status == SCORED
    assert resumed.calls == [("net-b", "mock")]
    assert after["net-a"].started_at == before["net-a"].started_at
    assert after["net-b"].finished_at is not None


def test_score_every_pair_failed(package: Path, tmp_path: Path) -> None:
    settings = settings_for(tmp_path, FakeRunner(), "NoSuchLab2099.IT-pls")
    outcome = score_package(package, settings)
    stored = settings.store.get_submission(outcome.key)
    assert outcome.status == FAILED
    assert stored.error == "every model failed on every benchmark"


def test_score_database_url_option(package: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'elsewhere.sqlite'}"
    settings = WorkerSettings(home=tmp_path / "home", store=Store(url), runner=FakeRunner())
    outcome = score_package(package, settings)
    with create_engine(url).connect() as connection:
        count = connection.execute(
            text("SELECT count(*) FROM scores WHERE key = :key"), {"key": outcome.key}
        ).scalar_one()
    assert count == 2


@pytest.mark.parametrize(
    ("entry", "benchmark", "expected"),
    [
        pytest.param(
            {
                "identifier": "m",
                "kind": "base",
                "ok": True,
                "benchmark": {"score": 0.3, "raw": 0.2, "ceiling": 0.6},
            },
            "MajajHong2015public.IT-pls",
            (0.2, 0.6, 0.3),
            id="brainscore",
        ),
        pytest.param(
            {
                "identifier": "m",
                "kind": "brain",
                "ok": True,
                "regions": {
                    "V1": {"layer": None, "raw": 0.2, "ceiling": 0.5, "ceiled": 0.4},
                    "IT": {"layer": None, "raw": 0.4, "ceiling": 0.7, "ceiled": 0.6},
                },
            },
            "mock",
            (0.3, 0.6, 0.5),
            id="mock-regions",
        ),
    ],
)
def test_pair_result_reads_entry(
    entry: dict[str, Any], benchmark: str, expected: tuple[float, float, float]
) -> None:
    result = pair_result(SubmissionReport("s", models=[entry]), "m", benchmark)
    assert (result.raw, result.ceiling, result.ceiled) == pytest.approx(expected)
    assert result.error is None


def test_pair_result_failed_model() -> None:
    entry = {"identifier": "m", "kind": "base", "ok": False}
    problem = Problem("layer-not-found", "layer 'relu9' not found")
    result = pair_result(SubmissionReport("s", [problem], [entry]), "m", "mock")
    assert result.error == "layer-not-found: layer 'relu9' not found"
    assert result.ceiled is None


def test_spool_record_survives_rejection(tmp_path: Path, package: Path) -> None:
    from tooling.scoring.spool import enqueue, pending_records

    spool = tmp_path / "home" / "spool"
    broken = write_zip(tmp_path / "broken.zip", [("../evil.py", b"x")])
    from tooling.packaging import sha256_of_file

    enqueue(broken, sha256_of_file(broken), {"author": "alice"}, spool)
    assert len(pending_records(spool)) == 1
    code = main(["score", "--spool", "--home", str(tmp_path / "home"), "--no-notify"])
    assert code == 0
    assert pending_records(spool) == []
    assert len(list((spool / "failed").glob("*.json"))) == 1


def test_score_requires_zip_or_spool(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["score"]) == 1
    assert "give either one ZIP or --spool" in capsys.readouterr().err


def test_runner_sees_no_credentials(
    package: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "not-a-secret")
    monkeypatch.setenv("BRAINSCORE_SMTP_PASSWORD", "not-a-secret")
    runner = FakeRunner()
    score_package(package, settings_for(tmp_path, runner))
    assert runner.secrets_seen == []
    assert "BRAINSCORE_SMTP_PASSWORD" not in runner.environment_names
    assert os.environ["GITHUB_TOKEN"] == "not-a-secret"


@pytest.mark.slow
def test_score_empty_pr_parameter(package: Path, tmp_path: Path) -> None:
    code = main(
        [
            "score",
            str(package),
            "--home",
            str(tmp_path / "home"),
            "--pr",
            "",
            "--no-notify",
            "--benchmark",
            "NoSuchLab2099.IT-pls",
        ]
    )
    store = Store(f"sqlite:///{tmp_path / 'home' / 'scores.sqlite'}")
    assert code == 1
    assert store.get_submission(check_package(package).key).pull_request is None


def test_score_models_unknown_statically(tmp_path: Path) -> None:
    folder = make_submission(tmp_path / "computed")
    source = (folder / "models" / "base_models.py").read_text()
    computed = source.replace("return ['net-a', 'net-b']", "return [f'net-{x}' for x in 'xy']")
    (folder / "models" / "base_models.py").write_text(computed)
    package = build_package(folder, tmp_path / "packages", commit="c" * 40)
    runner = FakeRunner()
    settings = settings_for(tmp_path, runner, "mock", "NoSuchLab2099.IT-pls")
    outcome = score_package(package.path, settings)
    rows = {(row.model, row.benchmark): row for row in settings.store.scores(outcome.key)}
    assert package.manifest["models"] == []
    assert outcome.status == SCORED
    assert runner.calls == [("*", "mock"), ("*", "NoSuchLab2099.IT-pls")]
    assert sorted(rows) == [("*", "NoSuchLab2099.IT-pls"), ("net-x", "mock"), ("net-y", "mock")]
    assert rows["net-y", "mock"].ceiled == pytest.approx(0.5)
    assert "could not be loaded" in rows["*", "NoSuchLab2099.IT-pls"].error


LEAKING_BASE = (
    "import os\n\n"
    "with open(f'/proc/{os.getppid()}/environ', 'rb') as file:\n"
    "    startup = file.read().decode(errors='replace').split('\\0')\n"
    "own = [f'{name}={value}' for name, value in os.environ.items()]\n"
    "raise RuntimeError(f'parent: {startup}; own: {own}')\n"
)

WORKER_SCRIPT = """
import sys
from pathlib import Path
from tooling.scoring.store import Store
from tooling.scoring.worker import WorkerSettings, score_package

home = Path(sys.argv[2])
settings = WorkerSettings(home=home, store=Store(sys.argv[3]), device="cpu", timeout=120)
score_package(Path(sys.argv[1]), settings)
"""

SECRETS = {
    "BRAINSCORE_SMTP_PASSWORD": "smtp-password-1f2e",
    "BRAINSCORE_DATABASE_URL": "postgresql://scorer:db-password-3c4d@db/scores",
    "GITHUB_TOKEN": "ghp_token5e6f",
    "BRAINSCORE_ADDRESS_BOOK": "/srv/address-book-7a8b.json",
    "SMTP_HOST_SECRET": "secret-9c0d",
}


@pytest.fixture(scope="module")
def leaked_error(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The stored error of a submission that reads the worker's startup environment,
    scored by a worker process that starts with credentials in its environment."""
    tmp_path = tmp_path_factory.mktemp("leak")
    folder = make_submission(tmp_path / "leak")
    (folder / "models" / "base_models.py").write_text(LEAKING_BASE)
    package = build_package(folder, tmp_path / "packages", commit="c" * 40)
    url = f"sqlite:///{tmp_path / 'scores.sqlite'}"
    environment = {**os.environ, **SECRETS}
    completed = subprocess.run(
        [sys.executable, "-c", WORKER_SCRIPT, str(package.path), str(tmp_path / "home"), url],
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    (row,) = Store(url).scores(check_package(package.path).key)
    return row.error


@pytest.mark.slow
def test_leaking_submission_ran(leaked_error: str) -> None:
    assert "RuntimeError: parent:" in leaked_error


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SECRETS))
def test_submission_reads_no_secret(leaked_error: str, name: str) -> None:
    assert SECRETS[name] not in leaked_error


@pytest.mark.slow
def test_submission_home_is_not_the_worker_home(leaked_error: str) -> None:
    own = leaked_error.partition("; own: ")[2]

    assert f"'HOME={os.environ['HOME']}'" not in own


def test_long_error_is_cut(package: Path, tmp_path: Path) -> None:
    def verbose_runner(folder: Path, display: str, **options: Any) -> SubmissionReport:
        return SubmissionReport(display, problems=[Problem("import-failed", "x" * 5000)])

    settings = settings_for(tmp_path, FakeRunner())
    settings.runner = verbose_runner
    outcome = score_package(package, settings)
    errors = [row.error for row in settings.store.scores(outcome.key)]

    assert [len(error) for error in errors] == [2036, 2036]
    assert errors[0].endswith("[... 3015 more characters left out]")


def big_package(tmp_path: Path) -> Path:
    folder = make_submission(tmp_path / "big")
    (folder / "models" / "weights.bin").write_bytes(bytes(5000))
    return build_package(folder, tmp_path / "packages", commit="c" * 40).path


def test_package_too_large_by_header(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = big_package(tmp_path)
    monkeypatch.setattr(unpack, "MAX_TOTAL_BYTES", 4096)

    with pytest.raises(FatalError, match="package too large when unpacked"):
        check_package(path)


def test_extraction_counts_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = check_package(big_package(tmp_path))
    monkeypatch.setattr(unpack, "MAX_TOTAL_BYTES", 4096)

    with pytest.raises(FatalError, match="package too large when unpacked"):
        extract_package(package, tmp_path / "sandbox")
    assert list((tmp_path / "sandbox").iterdir()) == []


def test_overlay_cache_is_the_package_own(package: Path, tmp_path: Path) -> None:
    runner = FakeRunner()
    outcome = score_package(package, settings_for(tmp_path, runner))

    assert runner.cache_dir == tmp_path / "home" / "work" / outcome.key / "overlays"


@pytest.fixture
def outbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Send the worker's emails to an outbox folder, all to the maintainers."""
    folder = tmp_path / "outbox"
    for name in ("BRAINSCORE_SMTP_HOST", "BRAINSCORE_ADDRESS_BOOK", "GITHUB_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BRAINSCORE_OUTBOX", str(folder))
    monkeypatch.setenv("BRAINSCORE_MAINTAINERS_EMAIL", "maintainers@brainscore.example.org")
    return folder


def score_command(path: Path, settings: WorkerSettings, *extra: str) -> list[str]:
    return [
        "score",
        str(path),
        "--home",
        str(settings.home),
        "--database",
        str(settings.store.engine.url),
        *extra,
    ]


def sent_emails(outbox: Path) -> list[Path]:
    return sorted(outbox.glob("*.eml")) if outbox.is_dir() else []


def test_wrong_sha256_keeps_scores(
    package: Path, tmp_path: Path, outbox: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = settings_for(tmp_path, FakeRunner())
    key = score_package(package, settings).key

    code = main(score_command(package, settings, "--sha256", "0" * 64))

    stored = settings.store.get_submission(key)
    assert code == 1
    assert "sha256 mismatch" in capsys.readouterr().err
    assert stored.status == SCORED
    assert stored.error is None
    assert sent_emails(outbox) == []


def test_wrong_sha256_of_new_package_stored(package: Path, tmp_path: Path, outbox: Path) -> None:
    settings = settings_for(tmp_path, FakeRunner())

    code = main(score_command(package, settings, "--sha256", "0" * 64))

    stored = settings.store.get_submission(check_package(package).key)
    assert code == 1
    assert stored.status == FAILED
    assert stored.error.startswith("package rejected: sha256 mismatch")
    assert len(sent_emails(outbox)) == 1


def test_score_missing_zip(
    tmp_path: Path, outbox: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = settings_for(tmp_path, FakeRunner())

    code = main(score_command(tmp_path / "missing.zip", settings))

    assert code == 1
    assert "no such package" in capsys.readouterr().err
    assert sent_emails(outbox) == []


def test_busy_package_sends_no_email(
    package: Path, tmp_path: Path, outbox: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tooling.scoring.worker import package_lock

    settings = settings_for(tmp_path, FakeRunner())
    key = score_package(package, settings).key

    with package_lock(settings, key):
        code = main(score_command(package, settings))

    assert code == 1
    assert "being scored by another worker" in capsys.readouterr().err
    assert sent_emails(outbox) == []


def test_extraction_rejection_stored(tmp_path: Path) -> None:
    files = {"a.py": b"x"}
    manifest = manifest_for("pair", {"a.py": b"changed"})
    path = write_zip(
        tmp_path / "corrupt.zip",
        [("pair/a.py", files["a.py"]), (f"pair/{MANIFEST_NAME}", manifest)],
    )
    runner = FakeRunner()
    settings = settings_for(tmp_path, runner)

    with pytest.raises(FatalError, match="sha256 mismatch for a.py"):
        score_package(path, settings)

    stored = settings.store.get_submission(check_package(path).key)
    assert stored.status == FAILED
    assert stored.error.startswith("package rejected: sha256 mismatch for a.py")
    assert runner.calls == []


def test_spool_sets_aside_unreadable_record(tmp_path: Path, package: Path) -> None:
    from tooling.commands.score import score_spool
    from tooling.scoring.spool import enqueue, pending_records

    runner = FakeRunner()
    settings = settings_for(tmp_path, runner)
    spool = settings.home / "spool"
    enqueue(package, check_package(package).key, {"author": "alice"}, spool)
    (spool / "incoming" / "0001.json").write_text("{bad")

    code = score_spool(settings, None, notify=False)

    assert code == 0
    assert pending_records(spool) == []
    assert (spool / "failed" / "0001.json").read_text() == "{bad"
    assert len(list((spool / "done").glob("*.json"))) == 1
    assert runner.calls == [("net-a", "mock"), ("net-b", "mock")]


@pytest.mark.parametrize(
    "option",
    [
        pytest.param(["--watch", "-1"], id="negative-watch"),
        pytest.param(["--watch", "0"], id="zero-watch"),
        pytest.param(["--timeout", "0"], id="zero-timeout"),
        pytest.param(["--timeout", "-5"], id="negative-timeout"),
        pytest.param(["--timeout", "nan"], id="nan-timeout"),
    ],
)
def test_score_rejects_non_positive_number(
    tmp_path: Path, option: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["score", "--spool", "--home", str(tmp_path / "home"), "--no-notify", *option])

    assert exit_info.value.code == 2
    assert "greater than 0" in capsys.readouterr().err


def test_score_watch_needs_spool(package: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["score", str(package), "--watch", "5"]) == 1
    assert "add --spool or leave out --watch" in capsys.readouterr().err


def test_score_default_timeout(tmp_path: Path) -> None:
    from tooling.cli import build_parser
    from tooling.commands.score import build_settings
    from tooling.scoring.worker import DEFAULT_TIMEOUT

    args = build_parser().parse_args(["score", "--spool", "--home", str(tmp_path / "home")])

    assert build_settings(args).timeout == DEFAULT_TIMEOUT


@pytest.mark.parametrize(
    "entries",
    [
        pytest.param([("pair/a.py", b"x")], id="no-manifest"),
        pytest.param([("pair/a.py", b"x"), (f"pair/{MANIFEST_NAME}", b"{bad")], id="invalid-json"),
        pytest.param([("pair/a.py", b"x"), (f"pair/{MANIFEST_NAME}", b"[]")], id="not-object"),
        pytest.param(
            [("pair/a.py", b"x"), (f"pair/{MANIFEST_NAME}", manifest_for("other", {"a.py": b"x"}))],
            id="other-submission",
        ),
        pytest.param(
            [("pair/a.py", b"x"), (f"pair/{MANIFEST_NAME}", digests_manifest([]))],
            id="files-not-mapping",
        ),
    ],
)
def test_manifest_rejection_says_repackage(tmp_path: Path, entries: list[Any]) -> None:
    path = write_zip(tmp_path / "broken.zip", entries)

    with pytest.raises(FatalError) as error_info:
        check_package(path)

    assert str(error_info.value).endswith(
        "; package the submission again with `python -m tooling package`"
    )
