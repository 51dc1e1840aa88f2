"""The seed: the exercise's algorithm and loop, transcribed plainly; the yardstick of the
classic preset's tests and the "seed" row of `dinogui bench`.

One of three references, each for one thing: this one is the seed (what classic
must equal bit for bit); core/models/reference.py is the math (the definition
every model's fast path is checked against); tests/plain_rnn.py is the
sampler's yardstick (the sampling schemes written out from README's formulas).

Kept close to the exercise line by line (one-hot column vectors, dict-held
parameters, one NumPy call per operation per time step). The tests check the
classic preset against it bit for bit; the benchmark measures it as the
seed's speed, so it ships in the package. What differs from the exercise:
the vocabulary size is a parameter instead of 27, the corpus is passed in,
and its global RNG is replaced by private RandomStates seeded the same way
(the same draws, without touching NumPy's global generator).
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


def sample(parameters: Params, char_to_ix: dict[str, int], seed: int) -> list[int]:
    Waa, Wax, Wya, by, b = (parameters[k] for k in ("Waa", "Wax", "Wya", "by", "b"))
    vocab_size = by.shape[0]
    n_a = Waa.shape[1]
    x = np.zeros((vocab_size, 1))
    a_prev = np.zeros((n_a, 1))
    indices = []
    idx = -1
    counter = 0
    newline_character = char_to_ix["\n"]
    while idx != newline_character and counter < 50:
        a = np.tanh(np.dot(Wax, x) + np.dot(Waa, a_prev) + b)
        z = np.dot(Wya, a) + by
        y = softmax(z)
        rng = np.random.RandomState(counter + seed)  # the seed's np.random.seed(counter + seed)
        idx = rng.choice(list(range(vocab_size)), p=y.ravel())
        indices.append(idx)
        x = np.zeros((vocab_size, 1))
        x[idx] = 1
        a_prev = a
        seed += 1
        counter += 1
    if counter == 50:
        indices.append(char_to_ix["\n"])
    return indices


def model(data: str, examples: list[str], num_iterations: int, n_a: int = 50,
          dino_names: int = 7, report_every: int = 2000):
    """Train as the seed does; returns (parameters, reports, losses).

    reports: [(j, smoothed loss, [sampled names])]; losses: every step's loss.
    """
    chars = sorted(set(data))
    char_to_ix = {ch: i for i, ch in enumerate(chars)}
    ix_to_char = {i: ch for i, ch in enumerate(chars)}
    vocab_size = len(chars)
    parameters = initialize_parameters(n_a, vocab_size, vocab_size)
    loss = -np.log(1.0 / vocab_size) * dino_names
    examples = list(examples)
    np.random.RandomState(0).shuffle(examples)  # the seed's np.random.seed(0); shuffle
    a_prev = np.zeros((n_a, 1))
    reports, losses = [], []
    for j in range(num_iterations):
        index = j % len(examples)
        X = [None] + [char_to_ix[ch] for ch in examples[index]]
        Y = X[1:] + [char_to_ix["\n"]]
        curr_loss, gradients, a_prev = optimize(X, Y, a_prev, parameters, vocab_size)
        losses.append(curr_loss)
        loss = loss * 0.999 + curr_loss * 0.001
        if j % report_every == 0:
            names = []
            for seed in range(dino_names):
                ix = sample(parameters, char_to_ix, seed)
                names.append("".join(ix_to_char[i] for i in ix).strip("\n"))
            reports.append((j, loss, names))
    return parameters, reports, losses
