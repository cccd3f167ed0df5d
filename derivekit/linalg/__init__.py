"""linalg: vectors and matrices with steps, eigen-decomposition and PCA.

Job: dot and matrix products, transpose, norms, determinant, inverse, rank, eigenvalues and
eigenvectors, and PCA, each returning a result that carries its worked steps.

May import: render, calculus, parsing, and the top level (``dask_blocks``, the CSV-block
reader it shares with optim, lives there).

Modules:
  operations  ``dot``, ``matmul``, ``transpose``, ``norm``, ``det``, ``inv``, ``rank``
  input       matrices from text, LaTeX, NumPy, nested lists or SymPy
  rowops      row reduction with recorded steps
  steps       the linear-algebra result types and their renderers
  eigen       ``eig`` with characteristic-polynomial steps
  pca         ``pca`` with centring, covariance and eigen steps
  pca_dask    ``pca(…, engine="dask")``: a CSV past memory, one streamed pass on Dask
  datasets    the built-in seeded datasets and the CSV reader

Exports to ``derivekit``: ``dot``, ``matmul``, ``transpose``, ``norm``, ``det``, ``inv``,
``rank``, ``eig``, ``pca``.

``eig`` and ``pca`` results draw themselves by importing ``derivekit.plots`` lazily:
matplotlib is an optional extra.
"""
