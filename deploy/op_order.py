"""pyinfra's operation order, read from the frames without reading source files.

In CLI mode pyinfra orders each operation by the line numbers of the calls
that led to it (``pyinfra.api.util.get_operation_order_from_stack``). It takes
them from ``inspect.stack()``, which also reads each frame's source line and
looks its module up among every module loaded: about 4 ms per operation here,
for about 30 operations per host, the largest part of `--dry` that grows with
hosts. The file name and line number it keeps are on each frame already
(``f_code.co_filename`` and ``f_lineno``, what ``inspect.getframeinfo`` returns
for a frame). ``install()`` puts this reading in pyinfra's place for the
pyinfra versions it was checked against; tests/unit/test_op_order.py checks
that both give the same order.
"""

import sys
from importlib import import_module

import pyinfra
from pyinfra.api.util import PYINFRA_INSTALL_DIR

# pyinfra releases whose get_operation_order_from_stack this reproduces.
CHECKED_PYINFRA = ("3.10.0",)


def operation_order(state) -> list[int]:
    """The line numbers pyinfra orders an operation by, as its own
    get_operation_order_from_stack computes them, for its caller's stack."""
    frames = []
    frame = sys._getframe(1)
    while frame is not None:
        frames.append(frame)
        frame = frame.f_back
    frames.reverse()

    # From the outermost frame of the deploy file pyinfra is loading (the
    # last frame when it is not on the stack, as in pyinfra).
    start = 0
    if state.current_deploy_filename:
        names = [frame.f_code.co_filename for frame in frames]
        wanted = state.current_deploy_filename
        start = names.index(wanted) if wanted in names else len(frames) - 1

    line_numbers = [state.current_op_file_number] if pyinfra.is_cli else []
    line_numbers += [
        frame.f_lineno for frame in frames[start:]
        if not frame.f_code.co_filename.startswith(PYINFRA_INSTALL_DIR)
    ]
    return line_numbers


def install() -> bool:
    """Use operation_order in pyinfra's place; False (pyinfra's own kept) for a
    pyinfra version it was not checked against."""
    if pyinfra.__version__ not in CHECKED_PYINFRA:
        return False
    import_module("pyinfra.api.operation").get_operation_order_from_stack = operation_order
    return True
