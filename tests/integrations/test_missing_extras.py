"""Without an extra's package: one line that says what to install, exit 2, never a traceback; and nothing
imports a framework or the MCP SDK before it is asked for."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest
from conftest import ROOT

from qa.errors import MissingExtraError

# runs ask.py's entry point as if the mcp package were not installed
WITHOUT_MCP = "import sys; sys.modules['mcp'] = None; from qa.fronts.cli import main; main(sys.argv[1:])"


def ask_without_mcp(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_MCP, *argv], cwd=ROOT, capture_output=True, text=True, timeout=60
    )


def test_ask_mcp_without_the_sdk_says_which_extra_to_install(seeds, tmp_path):
    done = ask_without_mcp("mcp", "--docs", str(seeds), "--index", str(tmp_path / "idx"))
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == ("error: the MCP server needs the mcp package, not installed here: pip install -e '.[mcp]'\n")
    assert not (tmp_path / "idx").exists()  # said before any index is opened or built


def test_ask_mcp_help_needs_no_sdk():
    done = ask_without_mcp("mcp", "--help")
    assert done.returncode == 0 and "--docs" in done.stdout and "--index" in done.stdout and "--model" in done.stdout


@pytest.mark.parametrize(
    ("module", "package", "message"),
    [
        ("qa.integrations.langchain", "langchain_core", "the LangChain retriever needs the langchain-core package"),
        ("qa.integrations.llama_index", "llama_index", "the LlamaIndex retriever needs the llama-index-core package"),
    ],
)
def test_a_framework_retriever_without_its_package_says_which_extra_to_install(monkeypatch, module, package, message):
    for name in [name for name in sys.modules if name == package or name.startswith(package + ".")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, package, None)
    monkeypatch.delitem(sys.modules, module, raising=False)
    with pytest.raises(MissingExtraError) as raised:
        importlib.import_module(module)
    extra = "langchain" if package == "langchain_core" else "llamaindex"
    assert str(raised.value) == f"{message}, not installed here: pip install -e '.[{extra}]'"
    assert raised.value.exit_code == 2


def test_nothing_imports_the_sdk_or_a_framework_until_asked():
    code = (
        "import sys, qa, qa.fronts.cli, qa.fronts.mcp_server, qa.integrations, qa.integrations.common\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'mcp', 'langchain_core', 'llama_index'}))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
