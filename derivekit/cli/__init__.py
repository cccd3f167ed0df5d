"""cli: the ``derivekit`` command line, a thin layer over the public API.

Job: parse arguments, call the public API, print the result in the chosen format, and turn
errors into exit codes (0 done or right, 1 wrong or diverged, 2 usage, parse or cannot
check, 3 internal error).

May import: everything.

Modules:
  dispatch  ``main(argv)``: the command table and the dispatcher (add a new command here,
            then its module)
  calculus  ``diff``, ``grad``, ``jacobian``, ``hessian``
  numeric   ``check``, ``gradcheck``
  matrix    ``matgrad``, ``backprop``, ``check-backprop``, ``gradflow``
  optim     ``descend``, ``fit``
  linalg    ``dot``, ``matmul``, ``det``, ``inv``, ``rank``, ``transpose``, ``norm``, ``eig``, ``pca``
  study     ``notes``, ``drill``, ``explain``
  web       ``serve``: the local web page (derivekit.web)
"""

from derivekit.cli.dispatch import main

__all__ = ["main"]
