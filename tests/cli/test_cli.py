"""The command dispatcher: help, unknown commands and exit codes."""

from derivekit.cli import dispatch as cli


def test_top_help_lists_every_command(capsys):
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in cli.COMMANDS:
        assert name in out


def test_no_arguments_is_a_usage_error(capsys):
    assert cli.main([]) == 2
    assert "usage" in capsys.readouterr().out


def test_unknown_command_suggests_the_closest(capsys):
    assert cli.main(["dif", "x"]) == 2
    assert "did you mean 'diff'" in capsys.readouterr().err


def test_version(capsys):
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("derivekit ")


def test_public_functions_survive_their_module_being_imported():
    import importlib

    import derivekit as dk
    for module in ("derivekit.calculus.derive", "derivekit.parsing.parse"):
        importlib.import_module(module)
    for name in ("derive", "parse"):
        assert callable(getattr(dk, name)) and not isinstance(getattr(dk, name), type(dk))
    dk.gradient("x*y", ["x", "y"])
    assert str(dk.derive("x^2", "x").result) == "2*x"


def test_output_piped_into_a_reader_that_stops_early_is_not_an_error():
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "derivekit", "eig", "[[2,1],[1,2]]"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before the first write, like `| head -0`
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr
