"""The seed's training step, plain, as the yardstick `dinogui bench` measures against.

A copy of tests/reference_seed.py's training math (one-hot column vectors,
one NumPy call per operation, per time step, as the exercise writes it),
shipped in the package because the benchmark runs from an installed copy too.
tests/test_speed_paths.py checks that the two give bit-identical steps. Only
the exercise's global RNG is replaced by a private RandomState (same draws).
"""

from __future__ import annotations

import numpy as np

Params = dict[str, np.ndarray]


def softmax(x: np.ndarray) -> np.ndarray:
    e_x = np.exp(x - np.max(x))
    return e_x / e_x.sum(axis=0)


def initialize_parameters(n_a: int, n_x: int, n_y: int, seed: int = 1) -> Params:
    rng = np.random.RandomState(seed)  # the seed's np.random.seed(1)
    Wax = rng.randn(n_a, n_x) * 0.01
    Waa = rng.randn(n_a, n_a) * 0.01
    Wya = rng.randn(n_y, n_a) * 0.01
    return {"Wax": Wax, "Waa": Waa, "Wya": Wya, "b": np.zeros((n_a, 1)), "by": np.zeros((n_y, 1))}


def rnn_step_forward(parameters: Params, a_prev: np.ndarray, x: np.ndarray):
    Waa, Wax, Wya, by, b = (parameters[k] for k in ("Waa", "Wax", "Wya", "by", "b"))
    a_next = np.tanh(np.dot(Wax, x) + np.dot(Waa, a_prev) + b)
    p_t = softmax(np.dot(Wya, a_next) + by)
    return a_next, p_t


def rnn_forward(X: list, Y: list, a0: np.ndarray, parameters: Params, vocab_size: int):
    x, a, y_hat = {}, {}, {}
    a[-1] = np.copy(a0)
    loss = 0
    for t in range(len(X)):
        x[t] = np.zeros((vocab_size, 1))
        if X[t] is not None:
            x[t][X[t]] = 1
        a[t], y_hat[t] = rnn_step_forward(parameters, a[t - 1], x[t])
        loss -= np.log(y_hat[t][Y[t], 0])
    return loss, (y_hat, a, x)


def rnn_step_backward(dy, gradients, parameters, x, a, a_prev):
    gradients["dWya"] += np.dot(dy, a.T)
    gradients["dby"] += dy
    da = np.dot(parameters["Wya"].T, dy) + gradients["da_next"]
    daraw = (1 - a * a) * da
    gradients["db"] += daraw
    gradients["dWax"] += np.dot(daraw, x.T)
    gradients["dWaa"] += np.dot(daraw, a_prev.T)
    gradients["da_next"] = np.dot(parameters["Waa"].T, daraw)
    return gradients


def rnn_backward(X: list, Y: list, parameters: Params, cache):
    y_hat, a, x = cache
    gradients = {
        "dWax": np.zeros_like(parameters["Wax"]), "dWaa": np.zeros_like(parameters["Waa"]),
        "dWya": np.zeros_like(parameters["Wya"]), "db": np.zeros_like(parameters["b"]),
        "dby": np.zeros_like(parameters["by"]), "da_next": np.zeros_like(a[0]),
    }
    for t in reversed(range(len(X))):
        dy = np.copy(y_hat[t])
        dy[Y[t]] -= 1
        gradients = rnn_step_backward(dy, gradients, parameters, x[t], a[t], a[t - 1])
    return gradients, a


def clip(gradients: Params, max_value: float) -> Params:
    for k in ("dWaa", "dWax", "dWya", "db", "dby"):
        np.clip(gradients[k], -max_value, max_value, out=gradients[k])
    return gradients


def update_parameters(parameters: Params, gradients: Params, lr: float) -> Params:
    for k in ("Wax", "Waa", "Wya", "b", "by"):
        parameters[k] += -lr * gradients["d" + k]
    return parameters


def optimize(X: list, Y: list, a_prev: np.ndarray, parameters: Params, vocab_size: int,
             learning_rate: float = 0.01):
    """One seed iteration: (loss, gradients, the hidden state carried to the next name)."""
    loss, cache = rnn_forward(X, Y, a_prev, parameters, vocab_size)
    gradients, a = rnn_backward(X, Y, parameters, cache)
    gradients = clip(gradients, 5)
    parameters = update_parameters(parameters, gradients, learning_rate)
    return loss, gradients, a[len(X) - 1]
