"""parsing: text and LaTeX in, SymPy out, safely.

Job: turn what a person types (plain text through an eval-free lark grammar, LaTeX through
latex2sympy2_extended plus a deep-learning normalisation layer) into SymPy expressions, and
define the DL function library (σ, ReLU, softplus, softmax, …) that every other wing uses.

May import: the top level only (``errors``, ``limits``, ``options``, ``display``).

Modules:
  parse      ``parse(source, syntax="auto")``: the front door, picks text or LaTeX
  text       the plain-text grammar and its transformer
  latex      LaTeX normalisation and the latex2sympy bridge
  functions  the DL functions as SymPy functions, each with its textbook derivative
  stable     numerically stable NumPy/``math`` implementations of those functions

Exports to ``derivekit``: ``parse``, ``sigmoid``, ``relu``, ``leaky_relu``, ``softplus``,
``silu``, ``gelu``, ``elu``, ``logsumexp``, ``softmax``.
"""
