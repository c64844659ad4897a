"""`bacalao config list|get|set`: the node settings in `<repo>/config.yaml`.

Keys are those of `bacalao.config.NodeConfig`, which are also the `serve`
flags (`swarm-port` and `swarm_port` both work). `list` shows every key's
effective value and where it comes from (default, file or BACALAO_* env);
`set` checks the new value against the model before writing the file, so
a node never finds a config it cannot start with.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .errors import CliError
from .output import View, view_options

if TYPE_CHECKING:
    from ..config import NodeConfig

FIXED = ("repo",)  # where the file lives, not a setting in it


def _repo_option(command: Any) -> Any:
    return click.option(
        "--repo",
        envvar="BACALAO_DIR",
        type=click.Path(file_okay=False, path_type=Path),
        default="~/.bacalao",
        show_default=True,
        help="The node's folder, which holds config.yaml [env: BACALAO_DIR].",
    )(command)


def _file(repo: Path) -> Path:
    from ..config import CONFIG_FILE

    return repo.expanduser() / CONFIG_FILE


def _read(repo: Path) -> dict[str, Any]:
    import yaml

    path = _file(repo)
    try:
        data = yaml.safe_load(path.read_text()) if path.exists() else {}
    except (OSError, yaml.YAMLError) as exc:
        raise CliError(f"cannot read {path}: {exc}", "fix or remove the file") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise CliError(f"{path} does not hold a mapping of settings", "fix the file")
    return {str(k).replace("-", "_"): v for k, v in data.items()}


def _key(name: str) -> str:
    import difflib

    from ..config import NodeConfig

    key = name.strip().replace("-", "_").lower()
    if key in NodeConfig.model_fields and key not in FIXED:
        return key
    known = [k for k in NodeConfig.model_fields if k not in FIXED]
    close = difflib.get_close_matches(key, known, n=1)
    hint = f"did you mean {close[0]}?" if close else "see `bacalao config list`"
    raise CliError(f"unknown config key {name!r}", hint)


def _effective(repo: Path) -> NodeConfig:
    from pydantic import ValidationError

    from ..config import load_config

    _read(repo)  # a file that does not parse is named as such
    try:
        return load_config(repo.expanduser())
    except (ValidationError, ValueError) as exc:
        raise CliError(
            f"the settings in {_file(repo)} (or BACALAO_* env) are invalid: {exc}",
            "fix them with `bacalao config set KEY VALUE`",
        ) from None


def _source(key: str, in_file: dict[str, Any]) -> str:
    if f"BACALAO_{key.upper()}" in os.environ:
        return "env"
    return "file" if key in in_file else "default"


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, default=str)


@click.group()
def config() -> None:
    """Read and change the node's settings (config.yaml in its repo)."""


@config.command(
    "list",
    epilog="""\b
Examples:
  bacalao config list
  bacalao config list --repo /var/lib/bacalao --output yaml""",
)
@_repo_option
@view_options(tabular=True)
def list_config(repo: Path, view: View) -> None:
    """Every setting, its value and where the value comes from."""
    settings = _effective(repo).model_dump(mode="json", exclude=set(FIXED))
    in_file = _read(repo)
    rows = [[k, _text(v), _source(k, in_file)] for k, v in settings.items()]
    view.echo(settings, lambda: view.table(("key", "value", "source"), rows))


@config.command(
    "get",
    epilog="""\b
Examples:
  bacalao config get api_port
  bacalao config get labels""",
)
@_repo_option
@click.argument("key")
def get(repo: Path, key: str) -> None:
    """Print one setting's effective value."""
    name = _key(key)
    value = _effective(repo).model_dump(mode="json")[name]
    click.echo(_text(value))


def _parse(name: str, values: tuple[str, ...]) -> Any:
    import yaml

    from ..config import NodeConfig, parse_labels

    annotation = str(NodeConfig.model_fields[name].annotation)
    text = " ".join(values)
    if text.lower() in ("null", "none", "~"):
        return None
    if "dict" in annotation:
        return parse_labels(",".join(values))
    if "list" in annotation:
        return [p.strip() for v in values for p in v.split(",") if p.strip()]
    if "str" in annotation and "float" not in annotation:
        return text
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


@config.command(
    "set",
    epilog="""\b
Examples:
  bacalao config set api_port 21000
  bacalao config set labels region=eu,gpu=a100
  bacalao config set peers /ip4/10.0.0.5/tcp/1235/p2p/12D3KooW...
  bacalao config set allowed_images null""",
)
@_repo_option
@click.argument("key")
@click.argument("values", nargs=-1, required=True, metavar="VALUE...")
def set_value(repo: Path, key: str, values: tuple[str, ...]) -> None:
    """Set a setting in config.yaml (checked before it is written)."""
    import yaml
    from pydantic import ValidationError

    from ..config import NodeConfig

    name = _key(key)
    data = {**_read(repo), name: _parse(name, values)}
    try:
        NodeConfig.model_validate({**data, "repo": repo.expanduser()})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or name
        raise CliError(
            f"invalid value for {where}: {first['msg']}",
            f"see `bacalao config get {name}` for its current value",
        ) from None
    path = _file(repo)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=True))
    click.echo(f"{name} = {_text(data[name])} (in {path})")


__all__ = ["config"]
