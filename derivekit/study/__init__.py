"""study: study notes, interview drills and explanations.

Job: render Markdown notes with ``derivekit`` blocks into Markdown, LaTeX or PDF; run
interview drills with graded answers; write interview-style explanations of a topic.

May import: every wing below it (optim, matrix, linalg, numeric, render, calculus, parsing)
and the top level, through the public API where it can.

Modules:
  notes    the notes document: blocks in, Markdown / .tex / PDF out
  topics   what a notes block can ask for (add a new block kind here)
  drill    interview practice problems, hints and grading
  explain  interview-style explanations of calculus, eigen, PCA and descent topics
"""
