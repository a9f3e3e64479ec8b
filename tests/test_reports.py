import io
import json

import jsonschema
import pytest

from tooling.problems import Problem
from tooling.reports import Report, SubmissionReport, emit
from tooling.reports.github import escape_markdown, render_annotations, render_summary
from tooling.reports.text import render_text


def make_report() -> Report:
    submission = SubmissionReport(
        submission="submissions/alexnet",
        problems=[
            Problem(
                "undeclared-dependency",
                "'timm' is imported but not declared; add it",
                file="models/base_models.py",
                line=3,
            ),
            Problem("stray-file", "editor backup; delete it", file="models/x.py~"),
            Problem("missing-model-module", "no setup.py; add one"),
        ],
        models=[{"identifier": "alexnet-a", "kind": "base"}],
    )
    return Report(command="validate", submissions=[submission])


def test_report_fails_on_any_error():
    report = make_report()

    assert not report.ok
    assert report.exit_code == 1


def test_report_passes_on_warnings_only():
    submission = SubmissionReport("submissions/a", [Problem("stray-file", "m", file="x~")])

    assert Report("validate", [submission]).exit_code == 0


def test_json_joins_file_with_submission():
    data = make_report().to_dict()
    problems = data["submissions"][0]["problems"]

    assert problems[0]["file"] == "submissions/alexnet/models/base_models.py"
    assert problems[0]["line"] == 3
    assert problems[0]["severity"] == "error"
    assert problems[2]["file"] == "submissions/alexnet"


def test_json_round_trips_through_schema():
    data = make_report().to_dict()

    again = Report.from_dict(json.loads(json.dumps(data))).to_dict()

    assert again == data


def test_from_dict_rejects_unknown_code():
    data = make_report().to_dict()
    data["submissions"][0]["problems"][0]["code"] = "rm -rf"

    with pytest.raises(jsonschema.ValidationError):
        Report.from_dict(data)


def test_text_names_file_line_and_code():
    text = render_text(make_report())

    assert "submissions/alexnet: failed (2 errors, 1 warning)" in text
    assert (
        "submissions/alexnet/models/base_models.py:3: error: 'timm' is imported but "
        "not declared; add it [undeclared-dependency]"
    ) in text


def test_annotations_escape_newlines_and_properties():
    submission = SubmissionReport(
        "submissions/a,b",
        [Problem("model-crashed", "line one\n::error::injected 100%", file="m.py", line=7)],
    )

    annotations = render_annotations(Report("check", [submission]))

    assert annotations == (
        "::error file=submissions/a%2Cb/m.py,line=7,title=model-crashed::"
        "line one%0A::error::injected 100%25\n"
    )


def test_escape_markdown_neutralises_html_and_mentions():
    escaped = escape_markdown("<img src=x> [link](http://a) @team\n| cell")

    assert "<" not in escaped.replace("\\<", "")
    assert "\\[link\\]" in escaped
    assert "@\u200bteam" in escaped
    assert "\n" not in escaped


def test_summary_has_row_per_submission():
    summary = render_summary(make_report())

    assert "| submissions/alexnet | failed | 2 | 1 | alexnet-a |" in summary
    assert "`undeclared-dependency`" in summary


def test_emit_github_appends_step_summary(tmp_path, monkeypatch):
    summary_file = tmp_path / "summary.md"
    summary_file.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary_file))
    stream = io.StringIO()

    code = emit(make_report(), "github", stream=stream)

    assert code == 1
    assert summary_file.read_text().startswith("earlier step\n## Brain-Score submission validate")
    assert stream.getvalue().startswith("::error file=submissions/alexnet/models/base_models.py")


def test_emit_writes_json_output_file(tmp_path):
    output = tmp_path / "report.json"

    emit(make_report(), "text", output=str(output), stream=io.StringIO())

    assert json.loads(output.read_text())["command"] == "validate"


def test_text_escapes_newline_in_model_entry():
    submission = SubmissionReport(
        "submissions/a",
        models=[{"identifier": "net\n::error file=x.py::forged", "kind": "base"}],
    )

    text = render_text(Report("validate", [submission]))

    assert "\n::error" not in text
    assert "  model net\\n::error file=x.py::forged (base model)" in text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("&commat;octocat", "&amp;commat;octocat", id="entity"),
        pytest.param("torvalds/linux#1", "torvalds/linux\\#\u200b1", id="reference"),
        pytest.param("abc\u202edef", "abcdef", id="right-to-left-override"),
    ],
)
def test_escape_markdown_cases(text, expected):
    assert escape_markdown(text) == expected


def crashed_report() -> Report:
    model = {
        "identifier": "t-raise",
        "kind": "base",
        "ok": False,
        "traceback": [
            "Traceback (most recent call last):",
            '  File "models/base_models.py", line 66, in get_model',
            "RuntimeError: boom\r::error::x",
        ],
    }
    return Report("mock-score", [SubmissionReport("submissions/t", models=[model])])


def test_text_indents_traceback_under_model():
    lines = render_text(crashed_report()).splitlines()

    assert lines[2:4] == [
        "    traceback:",
        "      Traceback (most recent call last):",
    ]


def test_text_escapes_traceback_lines():
    lines = render_text(crashed_report()).splitlines()

    assert lines[-1] == "      RuntimeError: boom\\r::error::x"


def test_traceback_round_trips_through_schema():
    data = crashed_report().to_dict()

    again = Report.from_dict(json.loads(json.dumps(data))).to_dict()

    assert again["submissions"][0]["models"][0]["traceback"][2] == "RuntimeError: boom\r::error::x"


def test_summary_neutralises_links_in_messages():
    submission = SubmissionReport(
        "submissions/a", [Problem("model-crashed", "see https://evil.example/x", file="m.py")]
    )

    summary = render_summary(Report("check", [submission]))

    assert "https://evil" not in summary
    assert "https:\u200b//evil.example/x" in summary
