"""The experiment scripts share one scaffold (arcray.experiment.run_script) and never reach into the CLI."""

from __future__ import annotations

import ast
import importlib.util
import json
from pathlib import Path

import pytest

from arcray.experiment import REQUIRED, Finished, run_script

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted((ROOT / "experiments").glob("*.py"))


def script(stem: str):
    """experiments/<stem>.py as a module (under its own name: ``main``, ``tune`` or ``collect`` would clash)."""
    spec = importlib.util.spec_from_file_location(f"experiment_script_{stem}", ROOT / "experiments" / f"{stem}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def imported_modules(tree: ast.AST) -> set[str]:
    """Every module an import statement names, anywhere in the file (``from a import b`` names a.b too)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_every_script_is_found():
    assert {"arc_baseline", "arc_distillation", "collect", "consistency", "main", "self_consistency", "tune"} <= {
        path.stem for path in SCRIPTS}


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda path: path.name)
def test_no_script_imports_the_cli(path):
    modules = imported_modules(ast.parse(path.read_text(), filename=str(path)))
    assert not [m for m in modules if m == "arcray.cli" or m.startswith("arcray.cli.")], path.name


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda path: path.name)
def test_every_main_is_the_scaffold(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    assert "arcray.experiment.run_script" in imported_modules(tree), f"{path.name} does not import run_script"
    mains = [node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "main"]
    assert len(mains) == 1, f"{path.name} has no top-level main()"
    body = [node for node in mains[0].body if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))]
    returned = body[0].value if len(body) == 1 and isinstance(body[0], ast.Return) else None
    assert isinstance(returned, ast.Call) and getattr(returned.func, "id", None) == "run_script", \
        f"{path.name}: main() should be `return run_script(argv, ...)`"
    caught = [ast.unparse(node.type) for node in ast.walk(tree) if isinstance(node, ast.ExceptHandler) and node.type]
    assert not [name for name in caught if "ArcrayError" in name or "KeyboardInterrupt" in name], \
        f"{path.name} catches what run_script reports"


def test_the_experiment_module_sits_below_the_cli():
    path = ROOT / "arcray" / "experiment.py"
    modules = imported_modules(ast.parse(path.read_text(), filename=str(path)))
    assert not [m for m in modules if m == "arcray.cli" or m.startswith("arcray.cli.")]


@pytest.mark.parametrize("stem", ["collect", "consistency", "tune", "arc_distillation", "self_consistency"])
def test_a_missing_config_is_one_line_and_exit_code_2(tmp_path, capsys, stem):
    missing = tmp_path / "no-such-config.yaml"
    assert script(stem).main(["--config", str(missing), "--out", str(tmp_path / "run")]) == 2
    captured = capsys.readouterr()
    assert captured.err == f"{stem}: error: cannot read config {missing} (No such file or directory)\n"
    assert captured.out == ""
    assert not (tmp_path / "run").exists()


def test_a_config_that_is_not_yaml_is_one_line_without_a_traceback(tmp_path, capsys):
    path = tmp_path / "broken.yaml"
    path.write_text("out: [unclosed\nlimit: 4\n")
    assert script("collect").main(["--config", str(path)]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"collect: error: {path}: not valid YAML (") and len(error.splitlines()) == 1, error
    assert "Traceback" not in error


def test_a_config_that_is_a_list_is_one_line(tmp_path, capsys):
    path = tmp_path / "list.yaml"
    path.write_text("- out\n- limit\n")
    assert script("tune").main(["--config", str(path)]) == 2
    assert capsys.readouterr().err == f"tune: error: {path}: a config is a mapping of keys to values\n"


@pytest.mark.parametrize("stem,expected", [
    ("arc_baseline", ["--out OUT", "run directory", "--smoke-test", "20 tasks only", "--tasks TASKS",
                      "task source (default: arc1/eval)", "--limit LIMIT", "only the first N tasks"]),
    ("arc_distillation", ["--config CONFIG", "--out OUT", "run directory (overrides the config's)", "a few tasks, one epoch"]),
    ("self_consistency", ["--config CONFIG", "--out OUT", "run directory (overrides the config's)", "a few prompts, one epoch"]),
    ("collect", ["--config CONFIG", "--out OUT", "run directory (overrides the config's)", "4 tasks, one generation"]),
    ("consistency", ["--config CONFIG", "experiment directory (overrides the config's)", "2 prompts per run"]),
    ("tune", ["--config CONFIG", "--out OUT", "run directory (overrides the config's)", "two one-epoch trials"]),
    ("main", ["--out OUT"]),
])
def test_each_script_keeps_its_flags(capsys, stem, expected):
    with pytest.raises(SystemExit) as stopped:
        script(stem).main(["--help"])
    assert stopped.value.code == 0
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps to the terminal's width
    assert [flag for flag in expected if flag not in text] == []
    assert ("--smoke-test" in text) == (stem != "main") and ("--config" in text) == (stem not in ("main", "arc_baseline"))


@pytest.mark.parametrize("stem", ["collect", "consistency"])
def test_a_required_config_is_required(capsys, stem):
    with pytest.raises(SystemExit) as stopped:
        script(stem).main([])
    assert stopped.value.code == 2
    assert "the following arguments are required: --config" in capsys.readouterr().err


def test_the_scaffold_prints_the_summary_then_the_lines_and_returns_the_code(tmp_path, capsys):
    def run(args) -> Finished:
        (args.out / "result.txt").write_text(args.config.read_text())
        return Finished(f"run directory: {args.out}", "done", summary={"smoke": args.smoke_test}, code=1)

    config = tmp_path / "config.yaml"
    config.write_text("out: somewhere\n")
    code = run_script(["--config", str(config), "--out", str(tmp_path), "--smoke-test"], name="demo", doc="Demo.\n\nMore.",
                      run=run, config=REQUIRED, smoke_test="tiny")
    assert code == 1
    assert capsys.readouterr().out == json.dumps({"smoke": True}, indent=2) + f"\nrun directory: {tmp_path}\ndone\n"
    assert (tmp_path / "result.txt").read_text() == "out: somewhere\n"


def test_ctrl_c_is_one_line_and_exit_code_130(capsys):
    def run(args) -> Finished:
        raise KeyboardInterrupt

    assert run_script([], name="demo", doc="Demo.", run=run, out_default=Path("runs/demo")) == 130
    assert capsys.readouterr().err == "demo: interrupted; re-run the same command to resume\n"


def test_an_error_that_is_not_the_users_still_raises():
    def run(args) -> Finished:
        raise RuntimeError("a bug")

    with pytest.raises(RuntimeError, match="a bug"):
        run_script([], name="demo", doc="Demo.", run=run)
