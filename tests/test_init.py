"""The public top level: a small set of names, each resolving lazily to its home's object."""

import ast
import importlib
import pathlib
import subprocess
import sys

import pytest

import bayesclv

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"
ERRORS = {"BayesCLVError", "ConvergenceWarning", "DataError", "OutputError", "SpecError"}


@pytest.mark.parametrize("name", bayesclv.__all__)
def test_every_public_name_resolves_to_its_home_object(name):
    home = "bayesclv.errors" if name in ERRORS else bayesclv._LAZY[name]
    assert getattr(bayesclv, name) is getattr(importlib.import_module(home), name)


def test_public_names_are_the_errors_and_the_lazy_table():
    assert bayesclv.__all__ == sorted(ERRORS | set(bayesclv._LAZY))
    assert set(dir(bayesclv)) == {*bayesclv.__all__, "__version__"}
    with pytest.raises(AttributeError, match="no attribute 'clv_draw'"):
        bayesclv.clv_draw  # noqa: B018


def test_importing_the_top_level_loads_only_the_errors():
    loaded = subprocess.run(
        [sys.executable, "-c",
         "import sys, bayesclv; print(' '.join(sorted(m for m in sys.modules "
         "if m.startswith(('bayesclv', 'pymc', 'pytensor', 'xarray', 'pandas')))))"],
        capture_output=True, text=True, check=True,
    ).stdout.split()
    assert loaded == ["bayesclv", "bayesclv.errors"]


def quickstart() -> ast.Module:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Python quickstart"):]
    code = section[section.index("```python\n") + len("```python\n"):]
    return ast.parse(code[:code.index("```")])


def test_the_readme_quickstart_uses_top_level_names_only():
    tree = quickstart()
    aliases = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            assert [a.name for a in node.names] == ["bayesclv"], ast.unparse(node)
            aliases |= {a.asname or a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.module == "bayesclv", ast.unparse(node)
            assert {a.name for a in node.names} <= set(bayesclv.__all__), ast.unparse(node)
    used = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name) and node.value.id in aliases}
    assert aliases and used, "the quickstart should use `import bayesclv as clv`"
    assert used <= set(bayesclv.__all__), sorted(used - set(bayesclv.__all__))
