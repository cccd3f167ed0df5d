"""derivekit check / derivekit gradcheck through derivekit.cli.main."""

import json

from derivekit.cli import main


def test_check_right_claim_exits_0(capsys):
    code = main(["check", "sigmoid(w*x + b)", "--claim", "x*sigma(w*x+b)*(1-sigma(w*x+b))", "--wrt", "w"])
    out = capsys.readouterr().out
    assert code == 0 and "✓ correct" in out


def test_check_missing_chain_factor_exits_1_with_diagnosis_and_derivation(capsys):
    code = main(["check", "sigmoid(w*x + b)", "--claim", "sigma(w*x+b)*(1-sigma(w*x+b))", "--wrt", "w"])
    out = capsys.readouterr().out
    assert code == 1
    assert "missing chain-rule factor" in out and "lacks x" in out
    assert "counterexample" in out and "Chain rule" in out


def test_check_gradient_with_one_claim_per_variable(capsys):
    code = main(["check", "softplus(w*x + b)", "--claim", "x*sigma(w*x+b)", "--claim", "sigma(w*x+b)",
                 "--wrt", "w,b"])
    assert code == 0, capsys.readouterr().out


def test_check_gradient_list_names_wrong_component(capsys):
    code = main(["check", "w^2*b", "--claim", "[2*w*b, 2*w]", "--wrt", "w,b", "--no-steps"])
    out = capsys.readouterr().out
    assert code == 1 and "∂/∂b" in out and "derivation" not in out


def test_check_json(capsys):
    code = main(["check", "tanh(w*x)", "--claim", "x*(1+tanh(w*x)^2)", "--wrt", "w", "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 1 and data["error_class"] == "wrong_activation_derivative"


def test_check_latex_and_markdown(capsys):
    assert main(["check", "x^2", "--claim", "2*x", "--wrt", "x", "--format", "latex"]) == 0
    assert r"\checkmark" in capsys.readouterr().out
    assert main(["check", "x^2", "--claim", "x", "--wrt", "x", "--format", "markdown"]) == 1
    assert "**diagnosis**" in capsys.readouterr().out


def test_check_parse_error_exits_2(capsys):
    code = main(["check", "sigmoid(w*x", "--claim", "x", "--wrt", "w"])
    assert code == 2 and "error" in capsys.readouterr().err


def test_check_missing_claim_is_a_usage_error(capsys):
    assert main(["check", "x^2", "--wrt", "x"]) == 2


def test_check_claim_count_mismatch_exits_2(capsys):
    assert main(["check", "x*y", "--claim", "y", "--wrt", "x,y"]) == 2
    assert "one derivative per variable" in capsys.readouterr().err


def test_gradcheck_own_gradient_exits_0(capsys):
    code = main(["gradcheck", "log(1 + exp(w*x + b))", "--wrt", "w,b"])
    out = capsys.readouterr().out
    assert code == 0 and "passed" in out


def test_gradcheck_wrong_claim_at_a_point(capsys):
    code = main(["gradcheck", "x^2*y", "--wrt", "x,y", "--claim", "[2*x*y, x^2+1]", "--at", "x=1,y=2"])
    out = capsys.readouterr().out
    assert code == 1 and "FAIL" in out and "y: analytic 2" in out


def test_gradcheck_methods_and_json(capsys):
    for method in ("complex", "richardson", "random_direction"):
        assert main(["gradcheck", "sin(x)*exp(y)", "--method", method]) == 0
    capsys.readouterr()
    assert main(["gradcheck", "x^3", "--format", "json", "--at", "x=2"]) == 0
    assert json.loads(capsys.readouterr().out)["points"] == [{"x": 2.0}]


def test_gradcheck_bad_point_exits_2(capsys):
    assert main(["gradcheck", "x^2", "--at", "x:1"]) == 2
    assert "name=value" in capsys.readouterr().err


def test_claims_and_functions_may_start_with_a_minus_sign(capsys):
    assert main(["check", "w^2*x", "--claim", "-2*w*x", "--wrt", "w", "--no-steps"]) == 1
    assert "sign error" in capsys.readouterr().out
    assert main(["check", "-cos(x)", "--claim", "sin(x)", "--wrt", "x", "--no-steps"]) == 0
    assert main(["gradcheck", "-x^2", "--claim", "-2*x", "--wrt", "x"]) == 0
    assert main(["check", "x^2", "--claim", "2*x", "--wrt", "x", "-h"]) == 0  # options still work
