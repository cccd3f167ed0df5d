"""CLI for ``derivekit notes``, ``derivekit drill`` and ``derivekit explain``.

One module serves the three commands; :func:`add_arguments` and :func:`run` dispatch on the
command name in ``parser.prog`` / ``args.command``.
"""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    command = parser.prog.split()[-1]
    parser.set_defaults(command=command)
    {"notes": _notes_arguments, "drill": _drill_arguments,
     "explain": _explain_arguments}[command](parser)


def run(args: argparse.Namespace) -> int:
    return {"notes": run_notes, "drill": run_drill, "explain": run_explain}[args.command](args)


# --------------------------------------------------------------------------------------------
# notes


def _notes_arguments(parser):
    parser.description = ("Render a study-notes file (Markdown with ```derivekit blocks) to "
                          "Markdown, a complete LaTeX document, or PDF through latexmk/pdflatex.")
    parser.add_argument("file", nargs="?", help="the notes source, e.g. examples/curriculum.md")
    parser.add_argument("--to", choices=("markdown", "tex", "pdf"), default=None,
                        help="output format (default markdown, printed unless -o is given)")
    parser.add_argument("--pdf", action="store_true", help="shorthand for --to pdf")
    parser.add_argument("-o", "--output", help="output file (default: next to FILE, with "
                        ".notes.md, .tex or .pdf)")
    parser.add_argument("--force", action="store_true", help="overwrite an existing output file")
    parser.add_argument("--kinds", action="store_true", help="list the topic kinds and exit")
    parser.add_argument("--tex-timeout", type=float, default=None, metavar="SECONDS",
                        help="stop the PDF compile after this long (default 60)")


def run_notes(args) -> int:
    from derivekit.errors import DerivekitError
    from derivekit.study import notes
    if args.kinds:
        from derivekit.study.topics import TOPIC_KINDS
        for kind in TOPIC_KINDS.values():
            keys = ", ".join((*kind.required, *(f"[{k}]" for k in kind.optional), "[title]"))
            print(f"{kind.name:16} {kind.summary}\n{'':16} keys: {keys}")
        return 0
    if not args.file:
        raise DerivekitError("give the notes FILE to render", hint="e.g. derivekit notes "
                             "examples/curriculum.md --pdf; derivekit notes --kinds lists topics")
    fmt = "pdf" if args.pdf else (args.to or "markdown")
    if args.pdf and args.to not in (None, "pdf"):
        raise DerivekitError("--pdf conflicts with --to " + args.to, hint="give one of them")
    if fmt == "markdown" and args.output is None:
        print(notes.to_markdown(notes.load(args.file)), end="")
        return 0
    output, _ = notes.build(args.file, fmt, args.output, force=args.force,
                            tex_timeout=args.tex_timeout)
    count = len(notes.load(args.file).topics)
    print(f"wrote {output} ({fmt}, {count} topics)")
    return 0


# --------------------------------------------------------------------------------------------
# drill


def _drill_arguments(parser):
    from derivekit.study.drill import DRILL_TOPICS
    parser.description = ("Interview practice: seeded problems by topic and difficulty. On a "
                          "terminal it asks and checks interactively ('hint', 'steps', 'skip', "
                          "'quit'); with --answer it checks the given answers and exits "
                          "(0 all correct, 1 otherwise).")
    parser.add_argument("--topic", help="one of: " + ", ".join(DRILL_TOPICS) + " (default: mixed)")
    parser.add_argument("--difficulty", type=int, choices=(1, 2, 3), default=1)
    parser.add_argument("--seed", type=int, default=0, help="same seed, same problems")
    parser.add_argument("--count", type=int, default=1, help="number of problems")
    parser.add_argument("--answer", action="append",
                        help="answer non-interactively (repeat once per problem)")
    parser.add_argument("--hint", action="store_true", help="with --answer: always show the hint")
    parser.add_argument("--steps", action="store_true",
                        help="with --answer: show the full solution too")
    parser.add_argument("--list", action="store_true", help="list the topics and exit")


def run_drill(args) -> int:
    from derivekit.study.drill import DRILL_TOPICS, DrillSession, run_interactive
    if args.list:
        for topic in DRILL_TOPICS.values():
            print(f"{topic.name:12} {topic.summary}")
        return 0
    session = DrillSession(args.topic, args.difficulty, args.seed, args.count)
    if not args.answer:
        try:
            run_interactive(session, sys.stdin, sys.stdout)
        except KeyboardInterrupt:
            print("\n" + session.score.summary())
        return 0
    if len(args.answer) > args.count:
        session.count = len(args.answer)
    all_ok = True
    for index, answer in enumerate(args.answer):
        problem = session.problem(index)
        print(f"Problem {index + 1} [{problem.topic}, difficulty {problem.difficulty}]: "
              f"{problem.prompt}")
        print(f"Your answer: {answer}")
        feedback = session.answer(index, answer)
        all_ok &= feedback.ok
        print("Correct!" if feedback.ok else f"Not quite: {feedback.message}")
        if args.hint or not feedback.ok:
            print("Hint: " + problem.hint)
        if args.steps:
            print("Solution:\n" + problem.solution())
        print()
    print(session.score.summary())
    return 0 if all_ok else 1


# --------------------------------------------------------------------------------------------
# explain


def _explain_arguments(parser):
    from derivekit.study.explain import EXPLAIN_TOPICS
    parser.description = ("Explain a topic the way you would in an interview: the rule, why it "
                          "applies, the result, and a pitfall. Built from derivekit's own "
                          "derivation.")
    parser.add_argument("topic", nargs="?", help="one of: " + ", ".join(EXPLAIN_TOPICS)
                        + "; or an expression (with --wrt)")
    parser.add_argument("--wrt", help="variable, when TOPIC is an expression")
    parser.add_argument("--format", choices=("text", "latex", "markdown", "json"), default="text")
    parser.add_argument("--list", action="store_true", help="list the topics and exit")


def run_explain(args) -> int:
    from derivekit.study.explain import EXPLAIN_TOPICS, explain
    if args.list or not args.topic:
        if not args.list:
            print("derivekit explain: give a TOPIC", file=sys.stderr)
        for name, entry in EXPLAIN_TOPICS.items():
            print(f"{name:20} {entry.what}")
        return 0 if args.list else 2
    print(explain(args.topic, args.wrt).render(args.format))
    return 0
