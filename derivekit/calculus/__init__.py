"""calculus: derivatives with steps.

Job: the step engine that applies one named rule per step, the rule table, tidying of raw
derivatives into textbook form (σ(1 − σ), 1 − tanh²), and the symengine fast path used when
no steps are wanted.

May import: parsing, and the top level.

Modules:
  steps     the result types: ``Step``, ``Derivation``, ``MatrixOfDerivations``
  rules     the rule table: one entry per differentiation rule (add a new rule here)
  engine    the memoised engine that applies the rule table to an expression tree
  tidy      targeted rewrites from a raw derivative to its textbook form
  derive    the public operators ``derive``, ``gradient``, ``jacobian``, ``hessian``, ``implicit``
  fastdiff  symengine differentiation for large gradients and Hessians
  exprgen   seeded random expression trees, for corpus tests and benchmarks

Exports to ``derivekit``: ``derive``, ``gradient``, ``jacobian``, ``hessian``, ``implicit``,
``Step``, ``Derivation``, ``MatrixOfDerivations``.

The one upward import in the package: ``Derivation.to_text()`` and friends call the
renderer in ``derivekit.render`` lazily, so a result can print itself (see ``steps``).
"""
