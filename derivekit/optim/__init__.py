"""optim: gradient descent and its variants, on formulas and on data.

Job: the optimizer table (gd, sgd, mini-batch, momentum, Nesterov, AdaGrad, RMSprop, Adam,
AdamW) with torch.optim's semantics, objectives built from formulas or datasets, and the
``Trajectory`` result with its worked updates and divergence diagnosis.

May import: matrix, numeric, render, calculus, parsing, and the top level.

Modules:
  optimizers  the optimizer table and ``minimize`` (add a new optimizer here)
  objectives  objectives from an expression or from data (linear, logistic, MLP)
  fit_dask    linear and logistic regression on a CSV past memory, on Dask (``engine="dask"``)
  trajectory  ``Trajectory``: points, losses, convergence, divergence, rendering

Exports to ``derivekit``: ``minimize``, ``Trajectory``.

``Trajectory.plot`` imports ``derivekit.plots`` lazily: matplotlib is an optional extra.
"""
