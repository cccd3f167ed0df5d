"""render: one traversal of a derivation, four formats, and whole LaTeX documents.

Job: print expressions (Unicode text and LaTeX printers with textbook term order), walk a
``Derivation`` once and lay it out as text, LaTeX, Markdown or a JSON-ready dict, and build
LaTeX documents and PDFs. Nothing here differentiates or simplifies.

May import: calculus, parsing, and the top level.

Modules:
  printing  SymPy printers for text and LaTeX, sharing one settings dict
  walk      the traversal: numbers steps, resolves shared sub-derivations, builds step views
  layouts   one page layout per format (add a new output format here)
  latexdoc  LaTeX documents and the PDF compile (sandboxed engine, process group killed on timeout)
  texbreak  long display equations broken into lines a page holds (a width estimate, cuts at + and −)
  docblocks document LaTeX for results that are not derivations (check, gradcheck, linalg, optim)
  safetex   math from untrusted notes checked token by token; link URLs encoded
"""
