"""numeric: numbers from symbols, and "is my derivative right?".

Job: compile expressions (and gradients, Jacobians, Hessians) into fast NumPy, ``math`` or
jax callables, check gradients by finite differences, sample points inside a function's
domain, and decide whether a user's claimed derivative is right.

May import: render, calculus, parsing, and the top level.

Modules:
  abstract    abstract functions (f, g′, σ′) in checks: realise known primes, random instances
  compiled    ``compile``, ``gradcheck``, ``GradCheck``
  finitediff  central, complex-step, Richardson and random-direction differences
  result_pool large result arrays a compiled function reuses once the caller has let go of them
  sampling    in-domain sample points for numeric checks
  stable_forms  written-out log(1 + exp(z)), log-sigmoid and softmax → stable built-ins
  verify      ``verify`` and ``Verdict``: symbolic and numeric checks with a diagnosis
  workspace   generated NumPy code rewritten to write its cse variables into a reused workspace

Exports to ``derivekit``: ``compile``, ``gradcheck``, ``GradCheck``, ``verify``, ``Verdict``.
"""
