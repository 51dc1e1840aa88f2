"""The contenders of `dinogui bench` and how they share a time budget.

Each contender (the seed's plain algorithm, a Trainer, PyTorch) trains in short turns;
between turns, off the clock, every one is scored on the same held-out names by one
float64 evaluator.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from dinogui.bench import seed as ref
from dinogui.core.batching import EncodedNames, bucketed_order
from dinogui.core.config import TrainConfig
from dinogui.core.corpus import Corpus
from dinogui.core.models import RNN, classic
from dinogui.core.threads import training_threads
from dinogui.core.trainer import Trainer

HELD_OUT = 0.1  # fraction of the names scored, never trained on
SPLIT_SEED = 1234
EVAL_CHARS = 5_000  # score the held-out names at least this often (trained characters),
# and at least every quarter epoch

Weights = dict[str, np.ndarray]  # W_x (V, H), W_h (H, H), b, W_hy (H, V), b_y


# -- held-out scoring -------------------------------------------------------------------
@dataclass
class Split:
    train: Corpus
    held_out: EncodedNames

    @classmethod
    def of(cls, corpus: Corpus) -> Split:
        perm = np.random.default_rng(SPLIT_SEED).permutation(len(corpus.names))
        n_held = max(1, round(HELD_OUT * len(corpus.names)))
        held = [corpus.names[i] for i in np.sort(perm[:n_held])]
        train = [corpus.names[i] for i in np.sort(perm[n_held:])]
        return cls(Corpus(train, corpus.vocab, corpus.source, corpus.lowercase),
                   EncodedNames.encode(corpus.vocab, held))


class HeldOutScorer:
    """Loss per character on the held-out names, in float64, for any vanilla RNN's weights."""

    def __init__(self, names: EncodedNames, batch: int = 512) -> None:
        by_length = np.argsort(names.lengths, kind="stable")
        self.batches = [names.pad_batch(by_length[i : i + batch], np.float64)
                        for i in range(0, len(names), batch)]
        self.chars = sum(float(m.sum()) for _, _, m in self.batches)
        self.model = RNN({})

    def __call__(self, w: Weights) -> float:
        # one model, its work arrays reused: scoring allocates nothing after the first time
        self.model.params = {k: np.asarray(v, dtype=np.float64) for k, v in w.items()}
        return sum(self.model.loss(X, Y, m) for X, Y, m in self.batches) / self.chars


# -- contenders -------------------------------------------------------------------------
@dataclass
class Contender:
    name: str
    advance: Callable[[], int]  # trains a little; returns the characters it trained on
    weights: Callable[[], Weights]
    note: str = ""


def reference_contender(split: Split, hidden: int) -> Contender:
    """The seed's algorithm as written: one name per step, a dozen NumPy calls per character."""
    vocab = split.train.vocab
    V = vocab.size
    params = ref.initialize_parameters(hidden, V, V)
    examples = [vocab.encode(n) for n in split.train.names]
    np.random.RandomState(0).shuffle(examples)
    state = {"j": 0, "a_prev": np.zeros((hidden, 1))}

    def advance(names: int = 5) -> int:
        chars = 0
        for _ in range(names):
            ix = examples[state["j"] % len(examples)]
            X, Y = [None, *ix], [*ix, 0]
            _, _, state["a_prev"] = ref.optimize(X, Y, state["a_prev"], params, V)
            state["j"] += 1
            chars += len(X)
        return chars

    return Contender("seed (plain reference)", advance, lambda: classic.to_reference(params),
                     "batch 1, SGD 0.01, float64")


def trainer_contender(name: str, trainer: Trainer, steps: int, note: str) -> Contender:
    def advance() -> int:
        before = trainer.state.total_chars
        trainer.run(steps)
        return trainer.state.total_chars - before

    if trainer.config.preset == "classic":
        weights = lambda: classic.to_reference(trainer.params)  # noqa: E731
    else:
        weights = lambda: dict(trainer.params)  # noqa: E731
    return Contender(name, advance, weights, note)


def classic_trainer(split: Split, hidden: int) -> Trainer:
    return Trainer(split.train, TrainConfig(preset="classic", hidden=hidden, samples=0))


def default_config(hidden: int | None, batch_size: int | None) -> TrainConfig:
    return TrainConfig.for_preset("default", hidden=hidden, batch_size=batch_size,
                                  val_fraction=0.0, samples=0)


def torch_contender(split: Split, config: TrainConfig, threads: int) -> Contender:
    """PyTorch's nn.RNN (tanh) and nn.Linear: the same model, batches, loss, optimizer, clip."""
    import torch

    torch.manual_seed(config.seed)
    V, H, B = split.train.vocab.size, config.hidden, config.batch_size
    rnn, head = torch.nn.RNN(V, H), torch.nn.Linear(H, V)
    params = [*rnn.parameters(), *head.parameters()]
    opt = torch.optim.Adam(params, lr=config.lr)
    names = EncodedNames.encode(split.train.vocab, split.train.names)
    rows = np.arange(len(names))
    rng = np.random.default_rng(config.seed)
    state = {"order": bucketed_order(rows, names.lengths, B, rng), "cursor": 0}

    def advance(steps: int = 1) -> int:
        torch.set_num_threads(threads)  # a process-wide setting: the other torch row changes it
        chars = 0
        for _ in range(steps):
            batch = state["order"][state["cursor"] : state["cursor"] + B]
            state["cursor"] += B
            if state["cursor"] >= len(rows):
                state["order"], state["cursor"] = bucketed_order(rows, names.lengths, B, rng), 0
            X, Y, mask = (torch.from_numpy(a) for a in names.pad_batch(batch))
            X, Y = X.long(), Y.long()
            x = torch.nn.functional.one_hot(X.clamp(min=0), V).float() * (X >= 0).unsqueeze(-1)
            out, _ = rnn(x)  # (T, B, H)
            logits = head(out)  # (T, B, V)
            per_char = torch.nn.functional.cross_entropy(
                logits.reshape(-1, V), Y.reshape(-1), reduction="none")
            n = mask.sum()
            loss = (per_char * mask.reshape(-1)).sum() / n
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_value_(params, config.clip)
            opt.step()
            chars += int(n)
        return chars

    def weights() -> Weights:
        with torch.no_grad():
            return {"W_x": rnn.weight_ih_l0.T.numpy().copy(),
                    "W_h": rnn.weight_hh_l0.T.numpy().copy(),
                    "b": (rnn.bias_ih_l0 + rnn.bias_hh_l0).numpy().copy(),
                    "W_hy": head.weight.T.numpy().copy(), "b_y": head.bias.numpy().copy()}

    return Contender(f"PyTorch {torch.__version__}, {threads} thread{'s' * (threads > 1)}",
                     advance, weights, f"nn.RNN, batch {B}, Adam {config.lr}, float32")


@dataclass
class Result:
    name: str
    note: str
    chars: int = 0
    seconds: float = 0.0  # training time only
    best: float = math.inf  # best held-out loss per character
    best_at: int = 0  # trained characters when it was reached
    final: float = math.inf
    next_eval: int = 0

    @property
    def chars_per_s(self) -> float:
        return self.chars / self.seconds

    def score(self, loss: float, at_chars: int) -> None:
        self.final = loss
        if loss < self.best:
            self.best, self.best_at = loss, at_chars


def take_turns(workers: list[Callable[[], int]], seconds: float, slice_s: float = 0.25,
               pause: Callable[[int, int], bool] | None = None,
               after_slice: Callable[[int, int], None] | None = None) -> list[tuple[int, float]]:
    """Run each worker for `seconds` in all, taking turns in slices of ~slice_s.

    A worker does a little work and returns how much (characters, iterations).
    Taking turns gives every worker the same share of whatever else the
    machine is doing, so ratios hold on a busy machine too. pause(i, done)
    may end a slice early; after_slice(i, done) runs off the clock. Returns
    (work done, seconds spent) per worker.
    """
    done, spent = [0] * len(workers), [0.0] * len(workers)
    while any(s < seconds for s in spent):
        for i, work in enumerate(workers):
            if spent[i] >= seconds:
                continue
            t0 = time.perf_counter()
            stop = t0 + min(slice_s, seconds - spent[i])
            while True:
                done[i] += work()
                now = time.perf_counter()
                if now >= stop or (pause is not None and pause(i, done[i])):
                    break
            spent[i] += now - t0
            if after_slice is not None:
                after_slice(i, done[i])
    return list(zip(done, spent, strict=True))


def run_budgets(contenders: list[Contender], seconds: float, score: HeldOutScorer,
                eval_chars: int) -> list[Result]:
    """Train each contender for `seconds` (taking turns); score held-out loss as it goes.

    Everything runs with training's one BLAS thread: a second OpenBLAS thread
    woken by scoring would spin on after it and slow whichever row runs next.
    """
    with training_threads():  # one BLAS thread for every row and for scoring too
        return _run_budgets(contenders, seconds, score, eval_chars)


def _run_budgets(contenders: list[Contender], seconds: float, score: HeldOutScorer,
                 eval_chars: int) -> list[Result]:
    results = [Result(c.name, c.note, next_eval=eval_chars) for c in contenders]
    for c, r in zip(contenders, results, strict=True):
        r.score(score(c.weights()), 0)

    def due(i: int, chars: int) -> bool:
        return chars >= results[i].next_eval

    def evaluate(i: int, chars: int) -> None:
        if due(i, chars):
            results[i].next_eval = chars + eval_chars
            results[i].score(score(contenders[i].weights()), chars)

    totals = take_turns([c.advance for c in contenders], seconds, pause=due,
                        after_slice=evaluate)
    for c, r, (chars, spent) in zip(contenders, results, totals, strict=True):
        r.chars, r.seconds = chars, spent
        r.score(score(c.weights()), chars)
    return results
