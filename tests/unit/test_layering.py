"""Product code (seedcore/, deploy/, lab/, bench/) never imports the tests."""

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            modules.add(node.module)
    return modules


def test_product_code_never_imports_tests():
    offenders = [
        f"{path.relative_to(REPO)} imports {module}"
        for package in ("seedcore", "deploy", "lab", "bench")
        for path in sorted((REPO / package).rglob("*.py"))
        # The project's own files: not a virtual environment the bench makes (bench/.venv-rayup).
        if not any(part.startswith(".") for part in path.relative_to(REPO).parts)
        for module in sorted(imported_modules(path))
        if module == "tests" or module.startswith("tests.")
    ]
    assert offenders == []


def test_the_layering_check_sees_an_import_of_tests(tmp_path):
    planted = tmp_path / "planted.py"
    planted.write_text("from tests.e2e import labctl\nimport tests.harness\n")
    assert imported_modules(planted) >= {"tests.e2e", "tests.harness"}


RENDER_INTERNALS = re.compile(r"\brender\.(_\w+|ENV_FILE|SERVE_DIR|SERVE_CONFIG|HEALTH_APP|ROUTE_CHECK"
                              r"|CONTAINER_SERVE_DIR)\b|safe_load\(render\.compose_file")


def render_internals_read(source: str) -> list[str]:
    """Lines of a module that uses the deploy's render and reads past its public API."""
    if "seedcore.render" not in source and "from seedcore import" not in source:
        return []
    return [f"{number}: {line.strip()}" for number, line in enumerate(source.splitlines(), 1)
            if RENDER_INTERNALS.search(line)]


def test_the_bench_reads_the_deploy_through_its_public_render_api():
    """The floor and the side by side use what the deploy renders (`render.project_files`,
    `render.compose_service`, ...), never its private helpers, its file layout or a parse
    of the compose text."""
    found = {str(path.relative_to(REPO)): render_internals_read(path.read_text())
             for path in sorted((REPO / "bench").glob("*.py"))}
    assert {path: lines for path, lines in found.items() if lines} == {}


def test_the_render_api_check_sees_a_private_read():
    planted = ("from seedcore import render\npath = f'{d}/{render.ENV_FILE}'\n"
               "service = yaml.safe_load(render.compose_file(node, ''))\n"
               "files = render.project_files(node, '')\n")
    assert render_internals_read(planted) == ["2: path = f'{d}/{render.ENV_FILE}'",
                                              "3: service = yaml.safe_load(render.compose_file(node, ''))"]
