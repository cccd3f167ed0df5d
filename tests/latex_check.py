"""A structural check of LaTeX strings: braces, \\left/\\right and environments balance.

Not a compiler (a real LaTeX run of every rule's output is a separate test); it catches the
renderer bugs that break MathJax and LaTeX alike: a lost brace, an unpaired \\left, an
environment closed in the wrong order.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"\\begin\{([^{}]*)\}|\\end\{([^{}]*)\}|\\left(?![a-zA-Z])|\\right(?![a-zA-Z])"
                    r"|\\[{}]|\\\\|\\[a-zA-Z]+|[{}]")


def latex_problems(tex: str) -> list[str]:
    """What is unbalanced in ``tex`` (empty when it is balanced)."""
    stack: list[str] = []
    problems = []
    for m in _TOKEN.finditer(tex):
        token = m.group(0)
        if m.group(1) is not None:
            stack.append("env:" + m.group(1))
        elif m.group(2) is not None:
            if not stack or stack[-1] != "env:" + m.group(2):
                problems.append(f"\\end{{{m.group(2)}}} at {m.start()} closes {stack[-1:] or 'nothing'}")
            else:
                stack.pop()
        elif token == r"\left":
            stack.append("left")
        elif token == r"\right":
            if not stack or stack[-1] != "left":
                problems.append(f"\\right at {m.start()} closes {stack[-1:] or 'nothing'}")
            else:
                stack.pop()
        elif token == "{":
            stack.append("{")
        elif token == "}":
            if not stack or stack[-1] != "{":
                problems.append(f"}} at {m.start()} closes {stack[-1:] or 'nothing'}")
            else:
                stack.pop()
    problems += [f"unclosed {item}" for item in stack]
    return problems


def math_blocks(markdown: str) -> list[str]:
    """The LaTeX inside ``$$…$$`` and ``$…$`` of a Markdown string (``\\$`` is not math)."""
    blocks = re.findall(r"\$\$(.+?)\$\$", markdown, flags=re.S)
    rest = re.sub(r"\$\$(.+?)\$\$", " ", markdown, flags=re.S)
    inline = re.findall(r"(?<!\\)\$(.+?)(?<!\\)\$", rest)
    return blocks + inline
