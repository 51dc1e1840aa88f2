"""The seed's vanilla RNN, one name at a time: the `classic` preset's math.

a_t    = tanh(Wax x_t + Waa a_{t-1} + b)     x_t one-hot, or zeros at t = 0
yhat_t = softmax(Wya a_t + by)
loss   = -sum_t log yhat_t[y_t]

Parameters keep the seed's names and column-vector shapes, so a classic
checkpoint reads like the exercise. The math is the seed's; only the bookkeeping
is cheaper: the output layer runs as one matrix product over all time steps,
one-hot products become column lookups, and only the recurrence is stepped.
"""

from __future__ import annotations

import numpy as np

Params = dict[str, np.ndarray]

PARAM_NAMES = ("Wax", "Waa", "Wya", "b", "by")


def init_params(n_a: int, vocab_size: int, rng: np.random.RandomState) -> Params:
    """The seed's initialisation: three randn draws in this order, zero biases."""
    n_x = n_y = vocab_size
    Wax = rng.randn(n_a, n_x) * 0.01  # (n_a, n_x)
    Waa = rng.randn(n_a, n_a) * 0.01  # (n_a, n_a)
    Wya = rng.randn(n_y, n_a) * 0.01  # (n_y, n_a)
    return {"Wax": Wax, "Waa": Waa, "Wya": Wya,
            "b": np.zeros((n_a, 1)), "by": np.zeros((n_y, 1))}


def softmax_rows(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def loss_and_grads(
    params: Params, xs: np.ndarray, ys: np.ndarray, a_prev: np.ndarray
) -> tuple[float, Params, np.ndarray]:
    """Forward and backward through one name.

    xs: (T,) input indices, -1 for the zero input at t = 0.
    ys: (T,) target indices (the name shifted left, then newline).
    a_prev: (n_a, 1) hidden state carried from the previous name.
    Returns (loss summed over the name, gradients keyed like params, a_last).
    """
    Wax, Waa, Wya, b, by = (params[k] for k in PARAM_NAMES)
    T, n_a = len(xs), Waa.shape[0]
    has_x = xs >= 0

    # forward: only the recurrence is sequential
    A = np.empty((T + 1, n_a))  # A[0] = a_{-1}, A[t+1] = a_t
    A[0] = a_prev[:, 0]
    Z = np.broadcast_to(b[:, 0], (T, n_a)).copy()  # (T, n_a) input part
    Z[has_x] += Wax.T[xs[has_x]]
    WaaT = Waa.T
    for t in range(T):
        A[t + 1] = np.tanh(Z[t] + A[t] @ WaaT)
    H = A[1:]  # (T, n_a)
    P = softmax_rows(H @ Wya.T + by[:, 0])  # (T, n_y)
    steps = np.arange(T)
    loss = -np.log(P[steps, ys]).sum()

    # backward through time
    dlogits = P
    dlogits[steps, ys] -= 1.0  # (T, n_y)
    dWya = dlogits.T @ H
    dby = dlogits.sum(axis=0)[:, None]
    dH = dlogits @ Wya  # (T, n_a) from the output layer
    dZ = np.empty((T, n_a))
    da_next = np.zeros(n_a)
    for t in range(T - 1, -1, -1):
        dZ[t] = (1.0 - H[t] * H[t]) * (dH[t] + da_next)
        da_next = dZ[t] @ Waa
    dWaa = dZ.T @ A[:-1]
    db = dZ.sum(axis=0)[:, None]
    dWax = np.zeros_like(Wax)
    np.add.at(dWax.T, xs[has_x], dZ[has_x])
    grads = {"Wax": dWax, "Waa": dWaa, "Wya": dWya, "b": db, "by": dby}
    return float(loss), grads, H[-1][:, None].copy()


def step_probs(params: Params, x: int, a_prev: np.ndarray, temperature: float = 1.0):
    """One cell step for sampling: (probabilities (n_y,), a_next (n_a, 1))."""
    # the seed's order of additions, (Wax x + Waa a) + b, so draws match it
    z = params["Waa"] @ a_prev
    if x >= 0:
        z = params["Wax"][:, x : x + 1] + z
    a = np.tanh(z + params["b"])
    logits = (params["Wya"] @ a + params["by"])[:, 0]
    if temperature != 1.0:
        logits = logits / temperature
    return softmax_rows(logits), a


def clip_(grads: Params, max_value: float) -> None:
    for g in grads.values():
        np.clip(g, -max_value, max_value, out=g)


def sgd_(params: Params, grads: Params, lr: float) -> None:
    for k in PARAM_NAMES:
        params[k] += -lr * grads[k]
