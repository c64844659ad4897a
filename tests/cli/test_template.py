"""`bacalao job run` renders the spec as a template first, as Bacalhau's does:
`-V key=value`, `-E REGEX` (environment variables), `--no-template`."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from bacalao.cli.template import TemplateError, env_vars, parse_vars, render

from .support import Live, run_cli

SPEC = """\
Name: {{.name}}
Type: batch
Tasks:
  - Name: main
    Engine:
      Type: docker
      Params:
        Image: busybox:1.37.0
        Parameters: [echo, "{{ .greeting }}"]
"""


def write(tmp_path: Path, text: str = SPEC) -> str:
    path = tmp_path / "job.yaml"
    path.write_text(text)
    return str(path)


def dry_run(*args: str, env: dict[str, str] | None = None) -> tuple[int, dict, str]:
    result = run_cli("job", "run", "--dry-run", *args, env=env)
    loaded = yaml.safe_load(result.stdout) if result.exit_code == 0 else {}
    return result.exit_code, loaded, result.stderr


def params(job: dict) -> list[str]:
    return job["Tasks"][0]["Engine"]["Params"]["Parameters"]


# -- through the CLI ----------------------------------------------------------


def test_vars_fill_the_spec(tmp_path: Path) -> None:
    code, job, _ = dry_run("-V", "name=hello", "-V", "greeting=hola", write(tmp_path))
    assert code == 0
    assert job["Name"] == "hello"
    assert params(job) == ["echo", "hola"]


def test_comma_separated_vars_and_long_flag(tmp_path: Path) -> None:
    code, job, _ = dry_run("--template-vars", "name=a,greeting=b", write(tmp_path))
    assert (code, job["Name"], params(job)) == (0, "a", ["echo", "b"])


def test_env_vars_matching_the_pattern(tmp_path: Path) -> None:
    env = {"JOB_NAME": "from-env", "JOB_GREETING": "hi", "OTHER": "x"}
    text = SPEC.replace(".name", ".JOB_NAME").replace(".greeting", ".JOB_GREETING")
    code, job, _ = dry_run("-E", "^JOB_", write(tmp_path, text), env=env)
    assert (code, job["Name"], params(job)) == (0, "from-env", ["echo", "hi"])


def test_var_flag_beats_the_environment(tmp_path: Path) -> None:
    env = {"name": "from-env", "greeting": "env"}
    path = write(tmp_path)
    code, job, _ = dry_run("-E", "*", "-V", "greeting=flag", path, env=env)
    assert (code, job["Name"], params(job)) == (0, "from-env", ["echo", "flag"])


def test_a_missing_var_is_one_line_naming_it(tmp_path: Path) -> None:
    code, _, stderr = dry_run("-V", "name=x", write(tmp_path))
    assert code == 1
    assert stderr.count("\n") == 1
    assert stderr.startswith("Error: job spec template: no value for 'greeting'")
    assert "-V greeting=VALUE" in stderr
    assert "Traceback" not in stderr


def test_env_vars_are_not_used_without_the_flag(tmp_path: Path) -> None:
    code, _, stderr = dry_run(write(tmp_path), env={"name": "x", "greeting": "y"})
    assert code == 1
    assert "no value for 'name'" in stderr


def test_no_template_reads_the_spec_as_it_is(tmp_path: Path) -> None:
    text = SPEC.replace("Name: {{.name}}", "Name: plain")
    code, job, _ = dry_run("--no-template", write(tmp_path, text))
    assert (code, params(job)) == (0, ["echo", "{{ .greeting }}"])


def test_a_spec_without_templates_is_unchanged(tmp_path: Path) -> None:
    text = SPEC.replace("{{.name}}", "n").replace("{{ .greeting }}", "$HOME {x}")
    code, job, _ = dry_run(write(tmp_path, text))
    assert (code, job["Name"], params(job)) == (0, "n", ["echo", "$HOME {x}"])


def test_stdin_specs_are_templates_too() -> None:
    result = run_cli(
        "job", "run", "--dry-run", "-V", "name=piped,greeting=x", "-", input=SPEC
    )
    assert result.exit_code == 0, result.output
    assert yaml.safe_load(result.stdout)["Name"] == "piped"


def test_a_bad_env_pattern_is_one_line(tmp_path: Path) -> None:
    code, _, stderr = dry_run("-E", "(", write(tmp_path))
    assert code == 1
    assert stderr.startswith("Error: invalid --template-envs '('")


def test_a_bad_var_is_one_line(tmp_path: Path) -> None:
    code, _, stderr = dry_run("-V", "novalue", write(tmp_path))
    assert code == 1
    assert stderr.startswith("Error: invalid --template-vars 'novalue'")


def test_templated_job_is_submitted(live: Live, tmp_path: Path) -> None:
    result = live("job", "run", "--id-only", "-V", "name=t,greeting=g", write(tmp_path))
    assert result.exit_code == 0, result.output
    job = live.backend.submitted[0][0]
    assert (job.Name, job.task.Engine.Params["Parameters"]) == ("t", ["echo", "g"])


# -- the renderer ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a {{.x}} b", "a 1 b"),
        ("a {{ .x }} b", "a 1 b"),
        ("a  {{- .x }} b", "a1 b"),
        ("a {{ .x -}}  \n b", "a 1b"),
        ("a \n{{- .x -}}\n b", "a1b"),
        ("a{{/* note */}}b", "ab"),
        ("a {{- /* note */ -}} b", "ab"),
        ("{{.x}}{{.y_2}}", "12"),
        ("no actions } { here", "no actions } { here"),
    ],
)
def test_render(text: str, expected: str) -> None:
    assert render(text, {"x": "1", "y_2": "2"}) == expected


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("{{.missing}}", "no value for 'missing' (line 1)"),
        ("a\n{{ if .x }}", "unsupported action {{if .x}} at line 2"),
        ("{{.x.y}}", "unsupported action"),
        ("{{ .x | printf }}", "unsupported action"),
        ("x\n\n{{ .x", "unclosed action at line 3"),
        ("{{-3}}", "unsupported action {{-3}}"),
        ("{{ .env.HOME }}", "plain names; write {{.HOME}} and pass -E '^HOME$'"),
    ],
)
def test_render_refuses(text: str, needle: str) -> None:
    with pytest.raises(TemplateError) as caught:
        render(text, {"x": "1"})
    assert needle in caught.value.format_message()


def test_parse_vars_quoting_keeps_commas() -> None:
    assert parse_vars(['"msg=a, b",k=', "k=2"]) == {"msg": "a, b", "k": "2"}


def test_env_vars_star_means_all() -> None:
    environ = {"A": "1", "B": "2"}
    assert env_vars("*", environ) == environ
    assert env_vars("^A", environ) == {"A": "1"}
    assert env_vars("", environ) == {}


@given(st.text().filter(lambda t: "{{" not in t))
def test_text_without_actions_is_unchanged(text: str) -> None:
    assert render(text, {}) == text


NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)
PLAIN = st.text(alphabet=st.characters(blacklist_characters="{}"), max_size=20)


@given(PLAIN, NAMES, st.text(max_size=20), PLAIN, st.sampled_from(["", " "]))
def test_a_value_lands_where_its_action_was(
    before: str, name: str, value: str, after: str, pad: str
) -> None:
    text = f"{before}{{{{{pad}.{name}{pad}}}}}{after}"
    assert render(text, {name: value}) == before + value + after
