"""Every example a user is shown (in --help, the README and docs/) runs, from a clone, on the files
shipped in sample_data/."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mlfit.cli import app

ROOT = Path(__file__).resolve().parents[1]


def help_examples() -> list[str]:
    import typer.main

    group = typer.main.get_group(app)
    examples = []
    for command in group.commands.values():
        in_examples = False
        for line in (command.epilog or "").splitlines():
            if line.startswith("Examples:"):
                in_examples = True
            elif in_examples and line.startswith("  "):
                examples.append(line.strip())
            elif in_examples:
                in_examples = False
    return examples


def readme_examples() -> list[str]:
    """The README's examples and the docs pages'."""
    lines = [line for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
             for line in page.read_text().splitlines()]
    found = []
    for line in lines:
        text = line.strip().removeprefix("$ ")
        if line.startswith("    ") and re.match(r"(mlfit|cat sample_data|python -m mlfit) ", text) \
                and "FILE" not in text and "--dist FAMILY" not in text:
            found.append(text)
    return found


EXAMPLES = sorted(set(help_examples()) | set(readme_examples()))


def test_there_are_examples_to_run():
    assert len(help_examples()) >= 10 and len(readme_examples()) >= 8


@pytest.mark.slow
@pytest.mark.parametrize("example", EXAMPLES)
def test_an_example_runs_from_a_clone(example, tmp_path):
    command = example.split(" | jq")[0]  # jq may not be installed; what goes into it must be valid
    command = re.sub(r">\s*\S+$", "> /dev/null", command)
    command = re.sub(r"--(plot|plot-nll|predict|output) (\S+)", lambda m: f"--{m.group(1)} {tmp_path / m.group(2)}", command)
    command = re.sub(r"(^|\| )(python -m )?mlfit ", lambda m: f"{m.group(1)}{sys.executable} -m mlfit ", command)
    done = subprocess.run(["bash", "-c", command], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "100"}, timeout=300)
    assert done.returncode == 0, (command, done.stderr)
    assert "Traceback" not in done.stderr


def test_the_readme_is_short_and_every_docs_page_is_linked_from_it():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.encode()) <= 20_000  # a newcomer reads it in two minutes
    pages = sorted(path.name for path in (ROOT / "docs").glob("*.md"))
    assert pages and all(f"(docs/{name})" in readme for name in pages)
    assert "## Quick start" in readme and "## Exit codes" in readme
