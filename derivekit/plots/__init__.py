"""plots: matplotlib figures for the result types (the optional ``plot`` extra).

Job: draw descent trajectories (contours, loss curves), PCA and eigenvector pictures, and
gradient-flow reports. Every module imports matplotlib only inside its functions and says
how to install it when it is missing.

May import: the result types they draw (optim, linalg, matrix) and everything below them.

Modules:
  optim     contour with the descent path, loss curves
  linalg    PCA projections and eigenvector arrows
  gradflow  per-layer gradient norms of a deep MLP
  tangent   f, f′ and the tangent line at a point (diff --plot, the web page's graph)
"""
