"""numeric: numbers from symbols, and "is my derivative right?".

Job: compile expressions (and gradients, Jacobians, Hessians) into fast NumPy, ``math`` or
jax callables, check gradients by finite differences, sample points inside a function's
domain, and decide whether a user's claimed derivative is right.

May import: render, calculus, parsing, and the top level.

Modules:
  abstract    abstract functions (f, g′, σ′) in checks: realise known primes, random instances
  compiled    ``compile``, ``gradcheck``, ``GradCheck``
  finitediff  central, complex-step, Richardson and random-direction differences
  sampling    in-domain sample points for numeric checks
  verify      ``verify`` and ``Verdict``: symbolic and numeric checks with a diagnosis

Exports to ``derivekit``: ``compile``, ``gradcheck``, ``GradCheck``, ``verify``, ``Verdict``.
"""
