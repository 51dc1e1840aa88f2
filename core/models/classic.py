"""The seed's vanilla RNN, one name at a time: the `classic` preset's math.

a_t    = tanh(Wax x_t + Waa a_{t-1} + b)     x_t one-hot, or zeros at t = 0
yhat_t = softmax(Wya a_t + by)
loss   = -sum_t log yhat_t[y_t]

This is core.models.reference's one-layer rnn (W_x = Wax^T, W_h = Waa^T,
b = b, W_hy = Wya^T, b_y = by; see to_reference) with the hidden state carried
from one name to the next, as the seed trains. Parameters keep the seed's
names and column-vector shapes and its initialisation, so a classic checkpoint
reads like the exercise and the preset reproduces the seed's numbers. Only the
bookkeeping differs (see PackedRNN): a few NumPy calls per character instead of
a dozen.
"""

from __future__ import annotations

import numpy as np

from .ops import all_finite, clip_, softmax, tempered

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


def to_reference(params: Params) -> Params:
    """The seed's five arrays under core.models.reference's names and row layout (views)."""
    return {"W_x": params["Wax"].T, "W_h": params["Waa"].T, "b": params["b"][:, 0],
            "W_hy": params["Wya"].T, "b_y": params["by"][:, 0]}


class PackedRNN:
    """The seed's parameters packed into two fused matrices, with a reusable workspace.

    Wcell = [Waa | b | Wax]  (n_a, n_a + 1 + V)  the cell:   z_t = Wcell @ [a_{t-1}; 1; x_t]
    Wout  = [Wya | by]       (V, n_a + 1)        the output: logits_t = Wout @ [a_t; 1]

    Both live in one flat float64 buffer, and `params` holds the seed's five
    arrays as views into it (same shapes, same row-major orientation, so
    step_probs and checkpoints see the seed's arrays). Per name:

    - rows u_t = [a_{t-1}, 1, onehot(x_t)] of a buffer U get their one-hot
      entries from one fancy assignment, so a step is z = Wcell @ u_t and
      a_t = tanh(z), written straight into the next row: 2 calls per step;
    - the output layer and the softmax run once over all time steps;
    - backward, r_t = [dz_{t+1}, dlogits_t] @ [[Waa], [Wya]] gives da_t from
      the recurrence and from the output in one product, then
      dz_t = (1 - a_t^2) r_t: 2 calls per step;
    - dZ^T U and dlogits^T [A, 1] are all five gradients in two products,
      packed like the parameters, so clipping and SGD are one call each.

    Only the summation order differs from the seed (one fused product where it
    adds three), so its losses agree with the seed's to rounding; training is
    chaotic, so over many thousands of iterations they drift apart.
    """

    def __init__(self, hidden: int, vocab_size: int) -> None:
        n_a, V = self.n_a, self.V = hidden, vocab_size
        self.width = n_a + 1 + V  # columns of Wcell and of U
        n_cell = n_a * self.width
        self.flat = np.zeros(n_cell + V * (n_a + 1))
        self.Wcell = self.flat[:n_cell].reshape(n_a, self.width)
        self.Wout = self.flat[n_cell:].reshape(V, n_a + 1)
        self.params: Params = _seed_views(self.Wcell, self.Wout, n_a)
        self.views = dict(self.params)  # what `params` held at first, to notice replacements
        self.grad_flat = np.zeros_like(self.flat)
        self.dWcell = self.grad_flat[:n_cell].reshape(n_a, self.width)
        self.dWout = self.grad_flat[n_cell:].reshape(V, n_a + 1)
        self.grads: Params = _seed_views(self.dWcell, self.dWout, n_a)
        self._step = np.empty_like(self.flat)  # -lr * grads, for SGD without temporaries
        self.S = np.empty((n_a + V, n_a))  # [[Waa], [Wya]], refreshed per name
        self._grow(32)

    @classmethod
    def from_params(cls, params: Params) -> PackedRNN:
        """Pack the seed's five arrays (copied, so the caller's arrays stay its own)."""
        n_a, V = params["Wax"].shape
        packed = cls(n_a, V)
        for k in PARAM_NAMES:
            packed.params[k][...] = params[k]
        return packed

    def owns(self, params: Params) -> bool:
        """Whether `params` is still this object's dict of views (no array replaced)."""
        return params is self.params and all(params[k] is v for k, v in self.views.items())

    def _grow(self, T: int) -> None:
        """Workspace for names of up to T steps; views per length are cached."""
        n_a, V = self.n_a, self.V
        self.cap = T
        self.U = np.zeros((T + 1, self.width))  # row t = [a_{t-1}, 1, onehot(x_t)]
        self.U[:, n_a] = 1.0
        self.R = np.zeros((T + 1, n_a + V))  # row t = [dz_t, dlogits_{t-1}]
        self.logits = np.empty((T, V))
        self.row_max = np.empty(T)
        self.row_sum = np.empty(T)
        self.ones = np.ones(V)
        self.D = np.empty((T, n_a))  # 1 - a_t^2
        # per-row views, so the loops index Python lists instead of slicing arrays
        self.u_rows = list(self.U)
        self.a_rows = [row[:n_a] for row in self.U]
        self.r_rows = list(self.R)
        self.dz_rows = [row[:n_a] for row in self.R]
        self.d_rows = list(self.D)
        self._views: dict[int, tuple] = {}

    def _views_for(self, T: int) -> tuple:
        v = self._views.get(T)
        if v is None:
            n_a, V, t = self.n_a, self.V, np.arange(T)
            v = self._views[T] = (
                self.U[1 : T + 1, :n_a],  # A: a_0 .. a_{T-1}       (T, n_a)
                self.U[1 : T + 1, : n_a + 1],  # [A, 1]             (T, n_a + 1)
                self.U[:T],  # the cell's inputs u_t                (T, width)
                self.R[1 : T + 1, n_a:],  # P, then dlogits         (T, V)
                self.R[:T, :n_a],  # dZ                             (T, n_a)
                self.logits[:T], self.row_max[:T], self.row_sum[:T], self.D[:T],
                # flat positions: one-hot columns of rows 1..T-1, P[t, 0] in R
                (t[1:] * self.width + n_a + 1), (t + 1) * (n_a + V) + n_a,
            )
        return v

    def backprop(self, inputs: np.ndarray, targets: np.ndarray, a_prev: np.ndarray) -> float:
        """Forward and backward through one name; gradients land in `grads`.

        inputs: (T - 1,) the indices fed at t = 1 .. T-1 (t = 0 feeds the seed's zeros).
        targets: (T,) the indices to predict (the name, then newline).
        a_prev: (n_a, 1) the hidden state carried from the previous name.
        Returns the loss summed over the name; `last_state()` is a_{T-1}.
        """
        T = len(targets)
        if T > self.cap:
            self._grow(max(T, 2 * self.cap))
        (A, A1, U, P, dZ, logits, row_max, row_sum, D, onehot_at, p_at) = self._views_for(T)
        Wcell, a_rows, u_rows, r_rows, dz_rows, d_rows = (
            self.Wcell, self.a_rows, self.u_rows, self.r_rows, self.dz_rows, self.d_rows)
        dot, tanh, multiply = np.dot, np.tanh, np.multiply
        U_flat, R_flat = self.U.reshape(-1), self.R.reshape(-1)

        # forward: only the recurrence is sequential
        hot = onehot_at + inputs
        U_flat[hot] = 1.0  # x_t as one-hot columns of U
        try:
            a_rows[0][:] = a_prev[:, 0]
            for t in range(T):
                a = a_rows[t + 1]
                dot(Wcell, u_rows[t], out=a)  # Waa a_{t-1} + b + Wax x_t
                tanh(a, out=a)
            np.matmul(A1, self.Wout.T, out=logits)  # (T, V)
            np.maximum.reduce(logits, axis=1, out=row_max)
            np.subtract(logits, row_max[:, None], out=logits)
            np.exp(logits, out=logits)
            dot(logits, self.ones, out=row_sum)
            np.divide(logits, row_sum[:, None], out=P)  # softmax, (T, V)
            picked = p_at + targets
            with np.errstate(divide="ignore"):  # log(0) = -inf: the trainer reports divergence
                loss = -float(np.log(R_flat[picked]).sum())

            # backward through time
            R_flat[picked] -= 1.0  # dlogits = P - onehot(y)
            multiply(A, A, out=D)
            np.subtract(1.0, D, out=D)  # tanh' = 1 - a^2
            S = self.S
            S[: self.n_a] = self.params["Waa"]
            S[self.n_a :] = self.params["Wya"]
            dz_rows[T][:] = 0.0  # nothing flows back from after the name
            for t in range(T - 1, -1, -1):
                dz = dz_rows[t]
                dot(r_rows[t + 1], S, out=dz)  # dz_{t+1} Waa + dlogits_t Wya
                multiply(dz, d_rows[t], out=dz)
            np.matmul(dZ.T, U, out=self.dWcell)  # [dWaa | db | dWax]
            np.matmul(P.T, A1, out=self.dWout)  # [dWya | dby]
        finally:
            U_flat[hot] = 0.0
        self._T = T
        return loss

    def last_state(self) -> np.ndarray:
        """a_{T-1} of the last name, (n_a, 1): the state the seed carries on."""
        return self.a_rows[self._T].reshape(-1, 1).copy()

    def grads_finite(self) -> bool:
        return all_finite(self.grad_flat)

    def clip_grads(self, max_value: float) -> None:
        clip_(self.grad_flat, max_value)

    def sgd(self, lr: float) -> None:
        """params += -lr * grads, element for element the seed's update."""
        np.multiply(self.grad_flat, -lr, out=self._step)
        self.flat += self._step


def _seed_views(Wcell: np.ndarray, Wout: np.ndarray, n_a: int) -> Params:
    """The seed's five arrays as views of the packed matrices."""
    return {"Wax": Wcell[:, n_a + 1 :], "Waa": Wcell[:, :n_a], "Wya": Wout[:, :n_a],
            "b": Wcell[:, n_a : n_a + 1], "by": Wout[:, n_a:]}


def step_probs(params: Params, x: int, a_prev: np.ndarray, temperature: float = 1.0):
    """One cell step for sampling: (probabilities (n_y,), a_next (n_a, 1))."""
    # the seed's order of additions, (Wax x + Waa a) + b, so draws match it
    z = params["Waa"] @ a_prev
    if x >= 0:
        z = params["Wax"][:, x : x + 1] + z
    a = np.tanh(z + params["b"])
    logits = (params["Wya"] @ a + params["by"])[:, 0]
    return softmax(tempered(logits, temperature)), a
