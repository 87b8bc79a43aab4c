"""The export kinds (gcnn_viewer.export.kinds) are the one list: the renderer's writers and
previews, the command line's sub-commands and the dialog's choices cover every kind, and
nothing else names one."""

import argparse
import re
from pathlib import Path

import pytest

import gcnn_viewer
from gcnn_viewer.errors import ExportError
from gcnn_viewer.export import choices, cli, render
from gcnn_viewer.export.kinds import KINDS, export_kind, kind_names

PACKAGE = Path(gcnn_viewer.__file__).parent


def test_kind_names_are_unique():
    assert len(kind_names()) == len(set(kind_names())) == len(KINDS)


def test_the_renderer_writes_and_previews_every_kind():
    assert set(render.WRITERS) == set(kind_names())
    assert {k.previewed_as for k in KINDS} <= set(render.PREVIEWS) <= set(kind_names())


def test_the_command_line_writes_every_kind():
    assert {k.sub_command for k in KINDS} == set(cli.COMMANDS)
    parser = argparse.ArgumentParser()
    cli.add_export_parser(parser.add_subparsers())
    for kind in KINDS:
        argv = ["export", kind.sub_command, "--model", "p4cnn", "--out", f"x.{kind.formats[0]}"]
        if kind.sub_command != kind.name:  # export figure --rotate-and-cycle
            argv.append(f"--{kind.name}")
        args = parser.parse_args(argv)
        assert cli._kind_of(args) is kind
        for option in kind.options:  # each option the kind takes is on its command line
            assert getattr(args, option) is not None


def test_the_dialog_offers_every_kind():
    assert list(choices.KINDS) == list(kind_names())
    for kind in KINDS:
        assert choices.KINDS[kind.name] == kind.title
        assert choices.formats(kind.name, mp4=True) == kind.formats
        assert set(kind.formats) <= choices.KNOWN_SUFFIXES
        assert choices.default_dpi(kind.name) == kind.dpi
        name = choices.default_filename(kind.name, ["p4cnn"], kind.formats[0], ["l2"], [0.0])
        assert name.startswith("p4cnn-") and name.endswith(f".{kind.formats[0]}")


def test_an_unknown_kind_is_one_line():
    with pytest.raises(ExportError, match="unknown export kind 'hologram'"):
        export_kind("hologram")
    with pytest.raises(ExportError, match="unknown export kind"):
        choices.formats("hologram")


def test_no_module_dispatches_on_a_kind_by_its_name():
    """A kind is read from its record: a comparison with a kind's name (``kind ==
    "animation"``, ``kind in ("figure", …)``) anywhere in the package is a table the
    registry does not know about."""
    names = "|".join(re.escape(n) for n in kind_names())
    pattern = re.compile(rf"""kind\w*\s*(?:==|!=|in|not in)\s*[(\[{{]?\s*["']({names})["']""")
    found = [
        f"{path.relative_to(PACKAGE)}:{n}: {line.strip()}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert found == []
