"""Backprop derivations as students write them, in both layouts, each with a PyTorch
reference written the way a PyTorch user would (``F.cross_entropy``, ``F.layer_norm``, ...).

Row-major (``R``): a batch is N rows, X is N×D, ``X@W + b`` (PyTorch, CS231n).
Column-major (``C``): an example is a column, x is D×1 and X is D×N, ``W@x + b``.

Each :class:`Case` is one loss and one variable: the right claim and typical wrong ones with
the error class ``verify_backprop`` must name (a tuple allows several honest names).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class Case:
    name: str
    layout: str                      # "R" row-major, "C" column-major
    loss: str
    wrt: str
    shapes: str
    right: str
    wrong: tuple = ()                # (error class or tuple of classes, claim)
    torch: Callable | None = None    # dict of float64 tensors -> scalar loss
    assume: str | None = None

    @property
    def id(self) -> str:
        return f"{self.layout}-{self.name}-{self.wrt}"


def _F():
    import torch.nn.functional as F
    return F


def _onehot_index(Y, dim):
    return Y.argmax(dim=dim)


# --- the cases, topic by topic --------------------------------------------------------

AFF_R = "X=NxD,W=DxC,b=1xC,Y=NxC"
AFF_C = "W=CxD,X=DxN,b=Cx1,Y=CxN"
affine = [
    Case("affine-mse", "R", "(1/N)*norm2(X@W + b - Y)", "W", AFF_R,
         "(2/N)*X.T@(X@W + b - Y)",
         (("missing_factor_2", "(1/N)*X.T@(X@W + b - Y)"),
          ("missing_1_over_N", "2*X.T@(X@W + b - Y)"),
          (("xt_wrong_side", "transposed_factor"), "(2/N)*(X@W + b - Y).T@X"),
          ("wrong_sign", "(2/N)*X.T@(Y - X@W - b)")),
         lambda t: ((t["X"] @ t["W"] + t["b"] - t["Y"]) ** 2).sum() / t["X"].shape[0]),
    Case("affine-mse", "R", "(1/N)*norm2(X@W + b - Y)", "b", AFF_R,
         "(2/N)*colsum(X@W + b - Y)",
         (("bias_not_summed", "(2/N)*(X@W + b - Y)"),
          ("missing_factor_2", "(1/N)*colsum(X@W + b - Y)")),
         lambda t: ((t["X"] @ t["W"] + t["b"] - t["Y"]) ** 2).sum() / t["X"].shape[0]),
    Case("affine-mse", "C", "(1/N)*norm2(W@X + b - Y)", "W", AFF_C,
         "(2/N)*(W@X + b - Y)@X.T",
         ((("xt_wrong_side", "transposed_factor"), "(2/N)*X.T@(W@X + b - Y)"),
          ("missing_1_over_N", "2*(W@X + b - Y)@X.T"),
          ("missing_factor_2", "(1/N)*(W@X + b - Y)@X.T")),
         lambda t: ((t["W"] @ t["X"] + t["b"] - t["Y"]) ** 2).sum() / t["X"].shape[1]),
    Case("affine-mse", "C", "(1/N)*norm2(W@X + b - Y)", "b", AFF_C,
         "(2/N)*rowsum(W@X + b - Y)",
         (("bias_not_summed", "(2/N)*(W@X + b - Y)"),),
         lambda t: ((t["W"] @ t["X"] + t["b"] - t["Y"]) ** 2).sum() / t["X"].shape[1]),
    Case("affine-mse-single", "C", "norm2(W@x + b - y)", "W", "W=3x4,x=4x1,b=3x1,y=3x1",
         "2*(W@x + b - y)@x.T",
         (("missing_factor_2", "(W@x + b - y)@x.T"),
          (("xt_wrong_side", "transposed_factor"), "2*x@(W@x + b - y).T")),
         lambda t: ((t["W"] @ t["x"] + t["b"] - t["y"]) ** 2).sum()),
]

RELU_R = "X=NxD,W1=DxH,b1=1xH,W2=HxC,b2=1xC,Y=NxC"
_relu_r = "Z = X@W1 + b1; A = relu(Z); S = A@W2 + b2; (1/N)*norm2(S - Y)"


def _relu_r_torch(t):
    S = torch_relu(t["X"] @ t["W1"] + t["b1"]) @ t["W2"] + t["b2"]
    return ((S - t["Y"]) ** 2).sum() / t["X"].shape[0]


def torch_relu(z):
    import torch
    return torch.relu(z)


def _relu_c_torch(t):
    a = torch_relu(t["W1"] @ t["x"] + t["b1"])
    return ((t["W2"] @ a + t["b2"] - t["y"]) ** 2).sum()


_relu_c = "z = W1@x + b1; a = relu(z); norm2(W2@a + b2 - y)"
relu = [
    Case("relu-mlp", "R", _relu_r, "W1", RELU_R,
         "X.T@(((2/N)*(S - Y)@W2.T) * relu_prime(Z))",
         (("missing_activation_derivative", "X.T@((2/N)*(S - Y)@W2.T)"),
          ("activation_instead_of_derivative", "X.T@(((2/N)*(S - Y)@W2.T) * relu(Z))"),
          ("transposed_factor", "X.T@(((2/N)*(S - Y)@W2) * relu_prime(Z))"),
          ("missing_1_over_N", "X.T@((2*(S - Y)@W2.T) * relu_prime(Z))")),
         _relu_r_torch),
    Case("relu-mlp", "R", _relu_r, "W2", RELU_R, "(2/N)*A.T@(S - Y)",
         ((("xt_wrong_side", "transposed_factor"), "(2/N)*(S - Y).T@A"),
          ("missing_factor_2", "(1/N)*A.T@(S - Y)")),
         _relu_r_torch),
    Case("relu-mlp", "R", _relu_r, "b1", RELU_R, "colsum(((2/N)*(S - Y)@W2.T) * relu_prime(Z))",
         (("bias_not_summed", "((2/N)*(S - Y)@W2.T) * relu_prime(Z)"),
          ("missing_activation_derivative", "colsum((2/N)*(S - Y)@W2.T)")),
         _relu_r_torch),
    Case("relu-mlp", "C", _relu_c, "W1", "W1=HxD,x=Dx1,b1=Hx1,W2=CxH,b2=Cx1,y=Cx1",
         "((W2.T@(2*(W2@a + b2 - y))) * relu_prime(z))@x.T",
         (("missing_activation_derivative", "(W2.T@(2*(W2@a + b2 - y)))@x.T"),
          ("transposed_factor", "((W2@(2*(W2@a + b2 - y))) * relu_prime(z))@x.T"),
          ("missing_factor_2", "((W2.T@(W2@a + b2 - y)) * relu_prime(z))@x.T")),
         _relu_c_torch),
    Case("relu-mlp", "C", _relu_c, "b1", "W1=HxD,x=Dx1,b1=Hx1,W2=CxH,b2=Cx1,y=Cx1",
         "(W2.T@(2*(W2@a + b2 - y))) * relu_prime(z)",
         (("missing_activation_derivative", "W2.T@(2*(W2@a + b2 - y))"),
          ("activation_instead_of_derivative", "(W2.T@(2*(W2@a + b2 - y))) * relu(z)")),
         _relu_c_torch),
    Case("relu-maximum", "R", "Z = X@W1 + b1; A = maximum(0, Z); S = A@W2 + b2; (1/N)*norm2(S - Y)",
         "W1", RELU_R, "X.T@(((2/N)*(S - Y)@W2.T) * (Z > 0))",
         (("missing_activation_derivative", "X.T@((2/N)*(S - Y)@W2.T)"),),
         _relu_r_torch),
]

CE_R = "X=NxD,W=DxC,b=1xC,Y=NxC"


def _ce_r_torch(t):
    Z = t["X"] @ t["W"] + t["b"]
    return _F().cross_entropy(Z, _onehot_index(t["Y"], 1))


def _ce_c_torch(t):
    Z = t["W"] @ t["X"] + t["b"]
    return _F().cross_entropy(Z.T, _onehot_index(t["Y"], 0))


def _ce_c1_torch(t):
    z = t["W"] @ t["x"] + t["b"]
    return _F().cross_entropy(z.T, _onehot_index(t["y"], 0))


_ce_r = "Z = X@W + b; (1/N)*softmax_ce(Z, Y, axis=1)"
_ce_c = "Z = W@X + b; (1/N)*softmax_ce(Z, Y, axis=0)"
softmax_ce = [
    Case("softmax-ce", "R", _ce_r, "W", CE_R, "(1/N)*X.T@(softmax(Z, axis=1) - Y)",
         (("missing_1_over_N", "X.T@(softmax(Z, axis=1) - Y)"),
          (("xt_wrong_side", "transposed_factor"), "(1/N)*(softmax(Z, axis=1) - Y).T@X"),
          ("wrong_sign", "(1/N)*X.T@(Y - softmax(Z, axis=1))")),
         _ce_r_torch, assume="Y: one-hot rows"),
    Case("softmax-ce", "R", _ce_r, "b", CE_R, "(1/N)*colsum(softmax(Z, axis=1) - Y)",
         (("bias_not_summed", "(1/N)*(softmax(Z, axis=1) - Y)"),),
         _ce_r_torch, assume="Y: one-hot rows"),
    Case("softmax-ce-axis", "R", "Z = X@W + b; -(1/N)*sum(Y*log_softmax(Z, axis=1))", "W", CE_R,
         "(1/N)*X.T@(softmax(Z, axis=1) - Y)",
         (("missing_1_over_N", "X.T@(softmax(Z, axis=1) - Y)"),),
         _ce_r_torch, assume="Y: one-hot rows"),
    Case("softmax-ce-bias-axis", "R", "Z = X@W + b; -(1/N)*sum(Y*log_softmax(Z, axis=1))", "b", CE_R,
         "(1/N)*(softmax(Z, axis=1) - Y).sum(axis=0)",
         (("bias_not_summed", "(1/N)*(softmax(Z, axis=1) - Y)"),),
         _ce_r_torch, assume="Y: one-hot rows"),
    Case("softmax-ce", "C", _ce_c, "W", "W=CxD,X=DxN,b=Cx1,Y=CxN", "(1/N)*(softmax(Z, axis=0) - Y)@X.T",
         (("missing_1_over_N", "(softmax(Z, axis=0) - Y)@X.T"),
          (("xt_wrong_side", "transposed_factor"), "(1/N)*X@(softmax(Z, axis=0) - Y).T"),
          ("wrong_sign", "(1/N)*(Y - softmax(Z, axis=0))@X.T")),
         _ce_c_torch, assume="Y: one-hot columns"),
    Case("softmax-ce", "C", _ce_c, "b", "W=CxD,X=DxN,b=Cx1,Y=CxN", "(1/N)*rowsum(softmax(Z, axis=0) - Y)",
         (("bias_not_summed", "(1/N)*(softmax(Z, axis=0) - Y)"),),
         _ce_c_torch, assume="Y: one-hot columns"),
    Case("softmax-ce-single", "C", "z = W@x + b; softmax_ce(z, y)", "W", "W=3x4,x=4x1,b=3x1,y=3x1",
         "(softmax(z) - y)@x.T",
         ((("xt_wrong_side", "transposed_factor"), "x@(softmax(z) - y).T"),
          ("wrong_sign", "(y - softmax(z))@x.T")),
         _ce_c1_torch, assume="y: one-hot columns"),
]

SVM_R = "X=NxD,W=DxC,Y=NxC"
_svm_r = "S = X@W; M = relu(S - rowsum(S*Y) + 1)*(1 - Y); (1/N)*sum(M)"


def _svm_r_torch(t):
    S = t["X"] @ t["W"]
    return _F().multi_margin_loss(S, _onehot_index(t["Y"], 1), margin=1.0) * S.shape[1]


def _svm_c_torch(t):
    s = (t["W"] @ t["x"]).T
    return _F().multi_margin_loss(s, _onehot_index(t["y"], 0), margin=1.0) * s.shape[1]


svm = [
    Case("svm-hinge", "R", _svm_r, "W", SVM_R,
         "P = relu_prime(S - rowsum(S*Y) + 1)*(1 - Y); (1/N)*X.T@(P - Y*rowsum(P))",
         (("target_missing", "P = relu_prime(S - rowsum(S*Y) + 1)*(1 - Y); (1/N)*X.T@P"),
          ("missing_1_over_N", "P = relu_prime(S - rowsum(S*Y) + 1)*(1 - Y); X.T@(P - Y*rowsum(P))")),
         _svm_r_torch, assume="Y: one-hot rows"),
    Case("svm-hinge", "C", "s = W@x; sum(relu(s - y.T@s + 1)*(1 - y))", "W", "W=CxD,x=Dx1,y=Cx1",
         "p = relu_prime(s - y.T@s + 1)*(1 - y); (p - y*sum(p))@x.T",
         (("target_missing", "p = relu_prime(s - y.T@s + 1)*(1 - y); p@x.T"),
          (("xt_wrong_side", "transposed_factor"), "p = relu_prime(s - y.T@s + 1)*(1 - y); x@(p - y*sum(p)).T")),
         _svm_c_torch, assume="y: one-hot columns"),
]

BN_R = "X=NxD,G=NxD,g=1xD,be=1xD"
_bn_r = ("mu = (1/N)*colsum(X); v = (1/N)*colsum((X - mu)**2); Xh = (X - mu)/sqrt(v + 0.00001); "
         "sum(G*(g*Xh + be))")
_bn_c = ("mu = (1/N)*rowsum(X); v = (1/N)*rowsum((X - mu)**2); Xh = (X - mu)/sqrt(v + 0.00001); "
         "sum(G*(g*Xh + be))")
BN_C = "X=DxN,G=DxN,g=Dx1,be=Dx1"


def _bn_r_torch(t):
    out = _F().batch_norm(t["X"], None, None, weight=t["g"].reshape(-1), bias=t["be"].reshape(-1),
                          training=True, eps=1e-5)
    return (t["G"] * out).sum()


def _bn_c_torch(t):
    out = _F().batch_norm(t["X"].T, None, None, weight=t["g"].reshape(-1), bias=t["be"].reshape(-1),
                          training=True, eps=1e-5)
    return (t["G"].T * out).sum()


_bn_dx_r = ("Xh = (X - mu)/sqrt(v + 0.00001); "
            "(g/(N*sqrt(v + 0.00001)))*(N*G - colsum(G) - Xh*colsum(G*Xh))")
_bn_dx_c = ("Xh = (X - mu)/sqrt(v + 0.00001); "
            "(g/(N*sqrt(v + 0.00001)))*(N*G - rowsum(G) - Xh*rowsum(G*Xh))")
batchnorm = [
    Case("batchnorm", "R", _bn_r, "X", BN_R, _bn_dx_r,
         (("norm_statistics_constant", "g*G/sqrt(v + 0.00001)"),),
         _bn_r_torch),
    Case("batchnorm", "R", _bn_r, "g", BN_R, "colsum(G*Xh)",
         (("bias_not_summed", "G*Xh"),),
         _bn_r_torch),
    Case("batchnorm", "R", _bn_r, "be", BN_R, "colsum(G)",
         (("bias_not_summed", "G"),),
         _bn_r_torch),
    Case("batchnorm", "C", _bn_c, "X", BN_C, _bn_dx_c,
         (("norm_statistics_constant", "g*G/sqrt(v + 0.00001)"),),
         _bn_c_torch),
    Case("batchnorm", "C", _bn_c, "g", BN_C, "rowsum(G*Xh)",
         (("bias_not_summed", "G*Xh"),),
         _bn_c_torch),
]

LN_R = "X=NxD,G=NxD,g=1xD,be=1xD"
_ln_r = ("mu = (1/D)*rowsum(X); v = (1/D)*rowsum((X - mu)**2); Xh = (X - mu)/sqrt(v + 0.00001); "
         "sum(G*(g*Xh + be))")
_ln_c = "mu = mean(x); v = mean((x - mu)**2); xh = (x - mu)/sqrt(v + 0.00001); sum(G*(g*xh + be))"
LN_C = "x=Dx1,G=Dx1,g=Dx1,be=Dx1"


def _ln_r_torch(t):
    D = t["X"].shape[1]
    out = _F().layer_norm(t["X"], (D,), t["g"].reshape(-1), t["be"].reshape(-1), eps=1e-5)
    return (t["G"] * out).sum()


def _ln_c_torch(t):
    D = t["x"].shape[0]
    out = _F().layer_norm(t["x"].T, (D,), t["g"].reshape(-1), t["be"].reshape(-1), eps=1e-5)
    return (t["G"].T * out).sum()


layernorm = [
    Case("layernorm", "R", _ln_r, "X", LN_R,
         "Gh = G*g; (1/(D*sqrt(v + 0.00001)))*(D*Gh - rowsum(Gh) - Xh*rowsum(Gh*Xh))",
         (("norm_statistics_constant", "g*G/sqrt(v + 0.00001)"),),
         _ln_r_torch),
    Case("layernorm", "R", _ln_r, "g", LN_R, "colsum(G*Xh)",
         (("bias_not_summed", "G*Xh"),),
         _ln_r_torch),
    Case("layernorm", "C", _ln_c, "x", LN_C,
         "gh = G*g; (1/(D*sqrt(v + 0.00001)))*(D*gh - sum(gh) - xh*sum(gh*xh))",
         (("norm_statistics_constant", "g*G/sqrt(v + 0.00001)"),),
         _ln_c_torch),
    Case("layernorm", "C", _ln_c, "g", LN_C, "G*xh",
         (("wrong_sign", "-G*xh"),),
         _ln_c_torch),
]

LR_R = "X=NxD,w=Dx1,b=1x1,y=Nx1"
_lr_r = "(1/N)*bce_logits(X@w + b, y) + 0.05*norm2(w)"
_lr_c = "(1/N)*bce_logits(w.T@X + b, y) + 0.05*norm2(w)"
LR_C = "w=Dx1,X=DxN,b=1x1,y=1xN"


def _lr_r_torch(t):
    z = t["X"] @ t["w"] + t["b"]
    return _F().binary_cross_entropy_with_logits(z, t["y"]) + 0.05 * (t["w"] ** 2).sum()


def _lr_c_torch(t):
    z = t["w"].T @ t["X"] + t["b"]
    return _F().binary_cross_entropy_with_logits(z, t["y"]) + 0.05 * (t["w"] ** 2).sum()


logistic = [
    Case("logreg-l2", "R", _lr_r, "w", LR_R, "(1/N)*X.T@(sigmoid(X@w + b) - y) + 0.1*w",
         (("extra_factor", "(1/N)*X.T@(sigmoid(X@w + b) - y) + 0.1*w*w"),
          ("missing_factor_2", "(1/N)*X.T@(sigmoid(X@w + b) - y) + 0.05*w"),
          ("regulariser_missing", "(1/N)*X.T@(sigmoid(X@w + b) - y)"),
          ("missing_1_over_N", "X.T@(sigmoid(X@w + b) - y) + 0.1*w")),
         _lr_r_torch, assume="y: probabilities"),
    Case("logreg-l2", "R", _lr_r, "b", LR_R, "(1/N)*sum(sigmoid(X@w + b) - y)",
         (("wrong_sign", "(1/N)*sum(y - sigmoid(X@w + b))"),),
         _lr_r_torch),
    Case("logreg-l2", "C", _lr_c, "w", LR_C, "(1/N)*X@(sigmoid(w.T@X + b) - y).T + 0.1*w",
         (("missing_factor_2", "(1/N)*X@(sigmoid(w.T@X + b) - y).T + 0.05*w"),
          ("missing_1_over_N", "X@(sigmoid(w.T@X + b) - y).T + 0.1*w"),
          (("xt_wrong_side", "transposed_factor"), "(1/N)*(sigmoid(w.T@X + b) - y)@X.T + 0.1*w")),
         _lr_c_torch),
]

TANH_R = "X=NxD,W1=DxK,b1=1xK,W2=KxC,b2=1xC,Y=NxC"
_tanh_r = "H = tanh(X@W1 + b1); S = H@W2 + b2; (1/N)*softmax_ce(S, Y, axis=1)"
_tanh_c = "h = tanh(W1@x + b1); norm2(W2@h + b2 - y)"
TANH_C = "W1=HxD,x=Dx1,b1=Hx1,W2=CxH,b2=Cx1,y=Cx1"


def _tanh_r_torch(t):
    import torch
    S = torch.tanh(t["X"] @ t["W1"] + t["b1"]) @ t["W2"] + t["b2"]
    return _F().cross_entropy(S, _onehot_index(t["Y"], 1))


def _tanh_c_torch(t):
    import torch
    h = torch.tanh(t["W1"] @ t["x"] + t["b1"])
    return ((t["W2"] @ h + t["b2"] - t["y"]) ** 2).sum()


_dS = "((1/N)*(softmax(S, axis=1) - Y))"
tanh_mlp = [
    Case("tanh-mlp", "R", _tanh_r, "W1", TANH_R, f"X.T@(({_dS}@W2.T)*(1 - H*H))",
         (("missing_activation_derivative", f"X.T@({_dS}@W2.T)"),
          ("transposed_factor", f"X.T@(({_dS}@W2)*(1 - H*H))"),
          ("missing_1_over_N", "X.T@(((softmax(S, axis=1) - Y)@W2.T)*(1 - H*H))")),
         _tanh_r_torch, assume="Y: one-hot rows"),
    Case("tanh-mlp", "R", _tanh_r, "W2", TANH_R, f"H.T@{_dS}",
         ((("xt_wrong_side", "transposed_factor"), f"{_dS}.T@H"),),
         _tanh_r_torch, assume="Y: one-hot rows"),
    Case("tanh-mlp", "R", _tanh_r, "b1", TANH_R, f"colsum(({_dS}@W2.T)*(1 - H*H))",
         (("bias_not_summed", f"({_dS}@W2.T)*(1 - H*H)"),),
         _tanh_r_torch, assume="Y: one-hot rows"),
    Case("tanh-mlp", "C", _tanh_c, "W1", TANH_C, "((W2.T@(2*(W2@h + b2 - y)))*tanh_prime(W1@x + b1))@x.T",
         (("missing_activation_derivative", "(W2.T@(2*(W2@h + b2 - y)))@x.T"),
          ("activation_instead_of_derivative", "((W2.T@(2*(W2@h + b2 - y)))*tanh(W1@x + b1))@x.T"),
          ("wrong_activation_derivative", "((W2.T@(2*(W2@h + b2 - y)))*sigmoid_prime(W1@x + b1))@x.T")),
         _tanh_c_torch),
    Case("tanh-mlp", "C", _tanh_c, "W2", TANH_C, "2*(W2@h + b2 - y)@h.T",
         (("missing_factor_2", "(W2@h + b2 - y)@h.T"),),
         _tanh_c_torch),
]

ATT_R = "X=Tx4,Wq=4xE,Wk=4xE,Wv=4xE,G=TxE"
_att_r = "Q = X@Wq; K = X@Wk; V = X@Wv; A = softmax(0.5*Q@K.T, axis=1); sum(G*(A@V))"
ATT_C = "X=4xT,Wq=Ex4,Wk=Ex4,Wv=Ex4,G=ExT"
_att_c = "Q = Wq@X; K = Wk@X; V = Wv@X; A = softmax(0.5*K.T@Q, axis=0); sum(G*(V@A))"


def _att_r_torch(t):
    import torch
    Q, K, V = t["X"] @ t["Wq"], t["X"] @ t["Wk"], t["X"] @ t["Wv"]
    return (t["G"] * (torch.softmax(0.5 * Q @ K.T, dim=1) @ V)).sum()


def _att_c_torch(t):
    import torch
    Q, K, V = t["Wq"] @ t["X"], t["Wk"] @ t["X"], t["Wv"] @ t["X"]
    return (t["G"] * (V @ torch.softmax(0.5 * K.T @ Q, dim=0))).sum()


attention = [
    Case("attention", "R", _att_r, "Wv", ATT_R, "X.T@(A.T@G)",
         (("transposed_factor", "X.T@(A@G)"),),
         _att_r_torch),
    Case("attention", "R", _att_r, "Wq", ATT_R,
         "dA = G@V.T; dS = A*(dA - rowsum(dA*A)); 0.5*X.T@(dS@K)",
         (("softmax_jacobian_dropped", "dA = G@V.T; 0.5*X.T@(dA@K)"),
          ("constant_off", "dA = G@V.T; dS = A*(dA - rowsum(dA*A)); X.T@(dS@K)")),
         _att_r_torch),
    Case("attention", "R", _att_r, "Wk", ATT_R,
         "dA = G@V.T; dS = A*(dA - rowsum(dA*A)); 0.5*X.T@(dS.T@Q)",
         (("transposed_factor", "dA = G@V.T; dS = A*(dA - rowsum(dA*A)); 0.5*X.T@(dS@Q)"),),
         _att_r_torch),
    Case("attention", "C", _att_c, "Wv", ATT_C, "G@A.T@X.T",
         (("transposed_factor", "G@A@X.T"),),
         _att_c_torch),
    Case("attention", "C", _att_c, "Wq", ATT_C,
         "dA = V.T@G; dS = A*(dA - colsum(dA*A)); 0.5*(K@dS)@X.T",
         (("softmax_jacobian_dropped", "dA = V.T@G; 0.5*(K@dA)@X.T"),),
         _att_c_torch),
    Case("attention-softmax-axis", "R",
         "Q = X@Wq; K = X@Wk; V = X@Wv; A = softmax(0.5*Q@K.T, axis=-1); sum(G*(A@V))",
         "Wv", ATT_R, "X.T@(A.T@G)", (("transposed_factor", "X.T@(A@G)"),),
         _att_r_torch),
]

RNN_C = "Wh=HxH,h0=Hx1,Wx=HxD,x=Dx1,b=Hx1,y=Hx1"
_rnn_c = "h1 = tanh(Wh@h0 + Wx@x + b); norm2(h1 - y)"
RNN_R = "H0=NxH,Wh=HxH,X=NxD,Wx=DxH,b=1xH,G=NxH"
_rnn_r = "H1 = tanh(H0@Wh + X@Wx + b); sum(G*H1)"


def _rnn_c_torch(t):
    import torch
    h1 = torch.tanh(t["Wh"] @ t["h0"] + t["Wx"] @ t["x"] + t["b"])
    return ((h1 - t["y"]) ** 2).sum()


def _rnn_r_torch(t):
    import torch
    return (t["G"] * torch.tanh(t["H0"] @ t["Wh"] + t["X"] @ t["Wx"] + t["b"])).sum()


rnn = [
    Case("rnn-step", "C", _rnn_c, "Wh", RNN_C, "(2*(h1 - y)*(1 - h1*h1))@h0.T",
         (("missing_activation_derivative", "2*(h1 - y)@h0.T"),
          (("xt_wrong_side", "transposed_factor"), "h0@(2*(h1 - y)*(1 - h1*h1)).T"),
          ("missing_factor_2", "((h1 - y)*(1 - h1*h1))@h0.T")),
         _rnn_c_torch),
    Case("rnn-step", "C", _rnn_c, "h0", RNN_C, "Wh.T@(2*(h1 - y)*(1 - h1*h1))",
         (("transposed_factor", "Wh@(2*(h1 - y)*(1 - h1*h1))"),),
         _rnn_c_torch),
    Case("rnn-step", "C", _rnn_c, "Wx", RNN_C, "(2*(h1 - y)*(1 - h1*h1))@x.T",
         (("missing_factor_2", "((h1 - y)*(1 - h1*h1))@x.T"),),
         _rnn_c_torch),
    Case("rnn-step", "R", _rnn_r, "Wh", RNN_R, "H0.T@(G*(1 - H1*H1))",
         (("missing_activation_derivative", "H0.T@G"),
          (("xt_wrong_side", "transposed_factor"), "(G*(1 - H1*H1)).T@H0")),
         _rnn_r_torch),
    Case("rnn-step", "R", _rnn_r, "b", RNN_R, "colsum(G*(1 - H1*H1))",
         (("bias_not_summed", "G*(1 - H1*H1)"),),
         _rnn_r_torch),
    Case("rnn-step", "R", _rnn_r, "H0", RNN_R, "(G*(1 - H1*H1))@Wh.T",
         (("transposed_factor", "(G*(1 - H1*H1))@Wh"),),
         _rnn_r_torch),
]

# the same derivations in the spelling of NumPy/PyTorch code: np./F. prefixes, methods,
# axis=/dim=/keepdims, maximum, comparisons as masks, declared constants (eps)
_relu_np = "Z = X@W1 + b1; A = np.maximum(0, Z); S = A@W2 + b2; (1/N)*norm2(S - Y)"
_bn_np = ("mu = X.mean(axis=0, keepdims=True); v = X.var(axis=0, keepdims=True); "
          "Xh = (X - mu)/np.sqrt(v + eps); np.sum(G*(g*Xh + be))")
_ln_np = ("mu = X.mean(axis=1, keepdims=True); v = X.var(axis=1, keepdims=True); "
          "Xh = (X - mu)/np.sqrt(v + eps); np.sum(G*(g*Xh + be))")
_svm_np = ("S = X@W; M = np.maximum(0, S - np.sum(S*Y, axis=1, keepdims=True) + 1)*(1 - Y); "
           "np.sum(M)/N")
_P = "P = (S - np.sum(S*Y, axis=1, keepdims=True) + 1 > 0)*(1 - Y); "
spelled = [
    Case("relu-numpy", "R", _relu_np, "W1", RELU_R, "X.T@(((2/N)*(S - Y)@W2.T) * (Z > 0))",
         (("missing_activation_derivative", "X.T@((2/N)*(S - Y)@W2.T)"),
          ("transposed_factor", "X.T@(((2/N)*(S - Y)@W2) * (Z > 0))")),
         _relu_r_torch),
    Case("relu-numpy", "R", _relu_np, "b1", RELU_R,
         "(((2/N)*(S - Y)@W2.T) * (Z > 0)).sum(axis=0, keepdims=True)",
         (("bias_not_summed", "((2/N)*(S - Y)@W2.T) * (Z > 0)"),),
         _relu_r_torch),
    Case("softmax-ce-torch", "R", "Z = X@W + b; -(1/N)*np.sum(Y*F.log_softmax(Z, dim=1))", "W", CE_R,
         "(1/N)*X.T.dot(F.softmax(Z, dim=1) - Y)",
         (("missing_1_over_N", "X.T.dot(F.softmax(Z, dim=1) - Y)"),
          (("xt_wrong_side", "transposed_factor"), "(1/N)*(F.softmax(Z, dim=1) - Y).T.dot(X)")),
         _ce_r_torch, assume="Y: one-hot rows"),
    Case("svm-hinge-numpy", "R", _svm_np, "W", SVM_R, _P + "X.T@(P - Y*P.sum(axis=1, keepdims=True))/N",
         (("target_missing", _P + "X.T@P/N"),),
         _svm_r_torch, assume="Y: one-hot rows"),
    Case("batchnorm-numpy", "R", _bn_np, "X", BN_R + ",eps=1e-5",
         "(g/(N*np.sqrt(v + eps)))*(N*G - G.sum(axis=0) - Xh*(G*Xh).sum(axis=0))",
         (("norm_statistics_constant", "g*G/np.sqrt(v + eps)"),),
         _bn_r_torch),
    Case("batchnorm-numpy", "R", _bn_np, "g", BN_R + ",eps=1e-5", "np.sum(G*Xh, axis=0)",
         (("bias_not_summed", "G*Xh"),),
         _bn_r_torch),
    Case("layernorm-numpy", "R", _ln_np, "X", LN_R + ",eps=1e-5",
         "Gh = G*g; (1/(D*np.sqrt(v + eps)))*(D*Gh - Gh.sum(axis=1, keepdims=True) "
         "- Xh*(Gh*Xh).sum(axis=1, keepdims=True))",
         (("norm_statistics_constant", "g*G/np.sqrt(v + eps)"),),
         _ln_r_torch),
]

CASES: list[Case] = (spelled + affine + relu + softmax_ce + svm + batchnorm + layernorm + logistic
                     + tanh_mlp + attention + rnn)


# --- random inputs for the torch comparison (the test's own sampler) -------------------

def draw_inputs(shapes: dict, assume: dict, rng) -> dict:
    """Gaussian inputs, with declared structure drawn directly (not by derivekit's sampler)."""
    out = {}
    for name, (r, c) in shapes.items():
        kind = assume.get(name)
        if kind == "one-hot rows":
            value = np.eye(c)[rng.integers(0, c, r)]
        elif kind == "one-hot columns":
            value = np.eye(r)[:, rng.integers(0, r, c)]
        elif kind == "probabilities":
            value = rng.uniform(0.05, 0.95, (r, c))
        else:
            value = rng.standard_normal((r, c))
        out[name] = value
    return out


__all__ = ["CASES", "Case", "draw_inputs"]
