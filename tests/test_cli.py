import pytest

from tooling import __version__
from tooling.cli import main


def test_version_prints_package_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])

    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"python -m tooling {__version__}"


def test_unknown_command_is_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["no-such-command"])

    assert exit_info.value.code == 2
    assert "invalid choice: 'no-such-command'" in capsys.readouterr().err


def test_missing_folder_is_clear_error(capsys, tmp_path):
    code = main(["validate", str(tmp_path / "absent")])

    assert code == 1
    err = capsys.readouterr().err
    assert err.startswith("error: no such folder, ")
    assert "Traceback" not in err
