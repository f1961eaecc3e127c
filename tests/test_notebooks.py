"""The example notebooks under notebooks/ are committed executed, and still execute.

The fast test reads the stored notebooks: every code cell ran, top to bottom in one kernel
session (execution counts 1, 2, 3, …), and no cell stored an error. The slow test runs each
notebook again with nbclient, from notebooks/ as the working directory (the notebooks use
paths like ``../models/cdnow.toml``), and fails on the first cell that raises.
"""

from pathlib import Path

import nbformat
import pytest

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
CELL_TIMEOUT_S = 3600  # notebook 02 refits the master model when its saved fit is stale


def test_there_are_notebooks():
    assert NOTEBOOKS, f"no notebooks found in {NOTEBOOK_DIR}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stored_executed_in_order_without_errors(path):
    notebook = nbformat.read(path, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code, f"{path.name} has no code cells"

    counts = [cell.get("execution_count") for cell in code]
    unexecuted = [i for i, count in enumerate(counts, start=1) if count is None]
    assert not unexecuted, f"{path.name}: code cells {unexecuted} were not executed"
    assert counts == list(range(1, len(code) + 1)), (
        f"{path.name}: execution counts {counts} are not 1..{len(code)}; "
        "re-run the whole notebook top to bottom in a fresh kernel before committing"
    )

    errors = [
        (i, output.get("ename"), output.get("evalue"))
        for i, cell in enumerate(code, start=1)
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]
    assert not errors, f"{path.name}: stored errors in code cells {errors}"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_executes(path):
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=CELL_TIMEOUT_S,
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
    )
    client.execute()  # raises CellExecutionError, naming the cell, on any error
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.execution_count is not None for cell in code)
