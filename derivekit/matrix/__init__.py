"""matrix: matrix calculus for backprop, with steps, checks and diagnoses.

Job: parse NumPy-spelled matrix expressions, check their shapes, differentiate them in
reverse mode through a table of adjoint rules, tidy the result into matrix notation, check
it by finite differences, and check a user's hand-derived matrix gradient (with a diagnosis
of the slip). Also the network-spec backprop and the gradient-flow report.

May import: numeric, render, calculus, parsing, and the top level.

Modules:
  expr              the matrix expression tree (nodes, constructors, simplification)
  parse             NumPy spelling and matrix LaTeX → expression tree
  shapes            shape inference and ``ShapeError`` messages
  adjoints          reverse-mode rule table, one entry per operation (add a new rule here)
  gradient          ``matrix_gradient``, ``MatrixDerivation``, ``verify_backprop``
  jacobian          forward-mode Jacobians and Hessians: ``matrix_jacobian``, ``matrix_hessian``
  jacobian_claim    checking a claimed Jacobian or Hessian (``verify_backprop(..., kind=)``)
  evaluate          compile a tree into a NumPy program, sample inputs, central differences
  assumptions       declared structure of inputs (one-hot rows, symmetric, …): sampling, words
  printers          expression printers: Unicode text, LaTeX and NumPy spelling
  derivation_writer writes a ``MatrixDerivation`` as text, LaTeX, Markdown or a dict
  claimcheck        ``BackpropVerdict``: comparing a claimed gradient with the derived one
  diagnose          searches single edits of a wrong claim for the slip it contains
  networks          ``backprop`` for an MLP spec, with δ recursion
  gradient_flow     ``gradflow``: vanishing and exploding gradients in a deep MLP

Exports to ``derivekit``: ``matrix_gradient``, ``MatrixDerivation``, ``verify_backprop``,
``backprop``, ``gradflow``, ``BackpropVerdict``, ``matrix_jacobian``, ``matrix_hessian``.
"""
