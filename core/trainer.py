"""The training loop as an object: all state in one place, advanced by step().

What a run is set to do is a TrainConfig (core.config, with the three presets); the
Trainer owns the parameters, the optimizer and the state, and takes one step at a time.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from . import memory, sampling, schedule, settings, timebudget, validation
from .batching import EncodedNames, bucketed_order
from .config import LIVE_FIELDS, SMOOTHING, TrainConfig, label_problem
from .corpus import Corpus, escape_controls
from .guard import StepGuard
from .history import History
from .models import MIX, MODELS, as_batched, classic
from .models.mixture import fit_weight, target_probs
from .models.ngram import KneserNey
from .models.reference import GATES
from .optim import Optimizer
from .packing import ParamPack
from .threads import TRAINING_THREADS, idle_cores, limits_blas, threads_for

DROPOUT_STREAM = 0xD809  # keeps dropout's random numbers apart from the other streams
# the seed's dino_names: its smoothed loss starts at the uniform-guess loss of 7 names, whatever
# number of names a report draws here
SEED_NAMES = 7
REPORT_BLOCK = 128  # a report's names are drawn this many at a time (see Trainer.step's stop)


class TrainingDiverged(ArithmeticError):
    """The loss, a gradient or an updated weight became NaN or infinite.

    The parameters and the optimizer's state are left as they were before the step.
    """


@dataclass
class StepResult:
    iteration: int  # the seed's 0-based j of the step just taken
    loss: float  # summed over the step's names
    chars: int
    names: int
    smooth: float
    smooth_char: float
    samples: list[str] | None = None  # drawn when this step is a report
    val_loss: float | None = None  # per character, when validation ran after this step
    val_by_label: list[float] | None = None  # a labelled model's val_loss for each label
    lr: float = 0.0  # the learning rate this step took
    stopped: str | None = None  # "patience": this step's validation used up the patience


@dataclass
class TrainState:
    """Everything besides parameters that a resumed run needs to continue exactly."""

    iteration: int = 0  # steps taken
    smooth: float = 0.0  # the seed's smoothed per-name loss
    smooth_char: float = 0.0
    total_chars: int = 0
    order: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    a_prev: np.ndarray | None = None  # classic: hidden state carried between names
    rng_state: dict | None = None  # default: the Generator's bit-generator state
    epoch: int = 0
    cursor: int = 0  # default: position in this epoch's order
    seconds: float = 0.0  # training time so far
    val_iterations: list[int] = field(default_factory=list)
    val_losses: list[float] = field(default_factory=list)
    best_val: float | None = None
    best_iteration: int | None = None


@dataclass
class TrainerParts:
    """What a trainer is made of besides corpus and config: a fresh model's or a saved one's."""

    params: dict[str, np.ndarray]
    optimizer: Optimizer | None  # None for classic (plain SGD in the packed step)
    state: TrainState
    history: History = field(default_factory=History)
    best_params: dict[str, np.ndarray] | None = None  # at the lowest held-out loss
    # the hybrid's count model (KneserNey.to_arrays) and its last fitted weight ("weight", (1,))
    mix: dict[str, np.ndarray] | None = None


class Trainer:
    """Owns parameters, optimizer and state for one corpus; no I/O, no printing."""

    def __init__(self, corpus: Corpus, config: TrainConfig,
                 parts: TrainerParts | None = None) -> None:
        """A fresh model from config's seed, or (parts given) one that continues exactly."""
        if parts is None and not config.counts_only:
            memory.check_fits(config, corpus)  # ModelTooLarge before anything is allocated
        self.corpus = corpus
        self.config = config
        self.vocab = corpus.vocab
        if corpus.labelled and (why := label_problem(config)) is not None:
            raise ValueError(f"{escape_controls(corpus.source)}: {why}")
        # derived from the names and config, never saved
        # the names, then any held out apart (their rows follow: see validation.split_rows)
        self._encoded = EncodedNames.encode(self.vocab, corpus.names + corpus.held_out)
        self._labels = corpus.name_labels  # each name's label index, None for a plain list
        try:
            self.train_rows, self.val_rows = validation.split_rows(
                corpus.names, corpus.held_out, config.val_fraction, config.seed, self._labels)
        except ValueError as e:  # too few names to hold any out: say which list
            raise ValueError(f"{escape_controls(corpus.source)}: {e}") from None
        self._evaluator = validation.Evaluator.for_names(
            [self._encoded[i] for i in self.val_rows],
            None if self._labels is None else self._labels[self.val_rows], len(corpus.labels))
        self._pack: ParamPack | None = None  # the batched step's packed parameters
        self._batch_chars: float | None = None  # characters in a typical batch
        self._guard: StepGuard | None = None  # the step's overflow guard
        self.blas_threads = self._blas_threads()  # what limits_blas sets around each call
        if config.mixed and not len(self.val_rows):
            raise ValueError("a mixed n-gram needs held-out names (a validation fraction above "
                             "0): its weight is fitted on them")
        self.last_val_by_label: list[float] | None = None  # the last check's, kind by kind
        self._mix_count: KneserNey | None = None  # the hybrid's count model, fitted once
        self._mix_probs: np.ndarray | None = None  # its probability of each held-out character
        if parts is None:
            parts = self._fresh_parts()
        if config.preset == "classic":
            self._classic = classic.PackedRNN.from_params(parts.params)
            self.model, self.params = None, self._classic.params
        elif config.counts_only:
            self.model = KneserNey.from_arrays(parts.params)
            self.params = parts.params
        else:
            self.model = MODELS[config.cell](parts.params)
            self.params = self.model.params
        self.optimizer = parts.optimizer
        self.state = parts.state
        self.history = parts.history
        self.best_params = parts.best_params
        self.mix = parts.mix
        self.budget_clock = timebudget.BudgetClock(spent_before=self.state.seconds,
                                                   steps_before=self.state.iteration)

    def _fresh_parts(self) -> TrainerParts:
        config, V = self.config, self.vocab.size
        smooth = -math.log(1.0 / V) * SEED_NAMES
        if config.counts_only:  # counted before its one step: usable (untuned) from the start
            model = KneserNey.fit(self._names(self.train_rows), V, config.order)
            state = TrainState(order=self.train_rows.copy(), smooth=smooth,
                               smooth_char=math.log(V))
            return TrainerParts(model.to_arrays(), None, state)
        if config.preset == "classic":
            # the seed: np.random.seed(1) before the init, np.random.seed(0) before the shuffle
            params = classic.init_params(config.hidden, V,
                                         np.random.RandomState((config.seed + 1) % 2**32))
            order = self.train_rows.copy()
            np.random.RandomState(config.seed).shuffle(order)
            state = TrainState(order=order, a_prev=np.zeros((config.hidden, 1)), smooth=smooth)
            optimizer = None
        else:
            rng = np.random.default_rng(config.seed)  # the init first, then the first order
            params = MODELS[config.cell].create(V, config.hidden, rng, np.dtype(config.dtype),
                                                layers=config.layers,
                                                labels=len(self.corpus.labels)).params
            state = TrainState(order=self._epoch_order(rng), rng_state=rng.bit_generator.state,
                               smooth=smooth)
            optimizer = Optimizer(config.optimizer)
        state.smooth_char = math.log(V)
        return TrainerParts(params, optimizer, state)

    @classmethod
    def restore(cls, corpus: Corpus, config: TrainConfig, params: dict[str, np.ndarray],
                optimizer: Optimizer | None, state: TrainState, history: History,
                best_params: dict[str, np.ndarray] | None = None,
                mix: dict[str, np.ndarray] | None = None) -> Trainer:
        """A trainer from saved parts (see core.checkpoint), continuing exactly."""
        return cls(corpus, config,
                   TrainerParts(params, optimizer, state, history, best_params, mix))

    def _names(self, rows: np.ndarray) -> EncodedNames:
        return EncodedNames.from_arrays([self._encoded[i] for i in rows])

    # -- settings that may change between steps -------------------------------
    def set_live(self, **changes) -> None:
        """Change what can change mid-run (LIVE_FIELDS; None: unchanged); it applies from
        the next step on."""
        fixed = sorted(set(changes) - set(LIVE_FIELDS))
        if fixed:
            raise ValueError(f"{', '.join(fixed)} cannot change mid-run (it needs a new model)")
        changes = {k: v for k, v in changes.items() if v is not None}
        self.config = replace(self.config, **changes)
        if "time_budget" in changes:  # more (or less) time: the schedule ends with it at once,
            self._size_schedule()     # never at the base rate until a new length is known

    # -- training --------------------------------------------------------------
    @property
    def iteration(self) -> int:
        return self.state.iteration

    @property
    def chars_per_name_step(self) -> int:
        return 1 if self.config.preset == "classic" else self.config.batch_size

    @limits_blas
    def step(self, stop: Callable[[], bool] | None = None) -> StepResult:
        """One update. Raises TrainingDiverged (nothing changed) on a NaN or inf.

        stop: asked between blocks of a report's names; once it says True the
        report keeps the names drawn so far (the step itself is complete).
        """
        # only a run with a time budget reads the clock (off the path of every other step)
        budgeted = self.config.time_budget > 0 and not self.config.counts_only
        t0 = timebudget.clock() if budgeted else 0.0
        lr = schedule.rate(self.config, self.state.iteration)
        if self.config.preset == "classic":
            loss, chars, names = self._classic_step(lr)
        elif self.config.counts_only:
            loss, chars, names = self._count_step()
        else:
            loss, chars, names = self._batched_step(lr)
        keep, take = SMOOTHING[self.config.preset]
        if self.config.counts_only:  # one step is the whole fit: nothing to smooth
            keep, take = 0.0, 1.0
        st, cfg = self.state, self.config
        j = st.iteration
        st.smooth = st.smooth * keep + (loss / names) * take
        st.smooth_char = st.smooth_char * keep + (loss / chars) * take
        st.iteration = j + 1
        st.total_chars += chars
        self.history.append(loss=loss, chars=chars, names=names,
                            smooth=st.smooth, smooth_char=st.smooth_char)
        res = StepResult(j, loss, chars, names, st.smooth, st.smooth_char, lr=lr)
        if j % cfg.sample_every == 0:  # a report, with no names when samples is 0
            res.samples = self._report_names(cfg.samples, stop)
        if self._evaluator is not None and (j % self.val_interval == 0
                                            or j % cfg.sample_every == 0):
            res.val_loss = self.validate()
            res.val_by_label = self.last_val_by_label
            if self.out_of_patience:
                res.stopped = "patience"
        if cfg.counts_only:  # counted and tuned: another step would give the same model
            res.stopped = "fitted"
        if budgeted:
            self.budget_clock.add(timebudget.clock() - t0)
            self._follow_budget(res)
        return res

    def _follow_budget(self, res: StepResult) -> None:
        """Stop once the steps' time reaches the budget; until then keep a schedule that
        core.timebudget sizes (none given) ending with it."""
        cfg, clock = self.config, self.budget_clock
        if clock.total >= cfg.time_budget:
            res.stopped = res.stopped or "seconds"
            return
        if cfg.schedule_iterations and res.val_loss is None:  # set: again at checks
            return
        self._size_schedule()

    def _size_schedule(self) -> None:
        """A cosine or linear schedule to end with the time budget, unless the run was given
        its length (only a length this trainer set, or none, is moved)."""
        cfg, clock = self.config, self.budget_clock
        if cfg.time_budget <= 0 or cfg.lr_schedule == "constant" \
                or cfg.schedule_iterations not in (0, clock.horizon):
            return
        horizon = clock.horizon_for(self.state.iteration, cfg.time_budget)
        if horizon is not None and horizon > cfg.warmup:
            clock.horizon = horizon
            self.config = replace(cfg, schedule_iterations=horizon)

    def budget_left(self) -> float | None:
        """Seconds of training left in the time budget (None: no budget)."""
        if self.config.time_budget <= 0:
            return None
        return max(0.0, self.config.time_budget - self.budget_clock.total)

    def _count_step(self) -> tuple[float, int, int]:
        """The count model's whole training: count the training names, tune the discounts
        on the held-out ones (without any: Chen & Goodman's estimates stay)."""
        train = self._names(self.train_rows)
        model = KneserNey.fit(train, self.vocab.size, self.config.order)
        if len(self.val_rows):
            model.tune(self._names(self.val_rows))
        self.model, self.params = model, model.to_arrays()
        chars = int((train.lengths + 1).sum())
        return model.held_out_loss(train) * chars, chars, len(train)

    @property
    def val_interval(self) -> int:
        """Iterations between held-out checks: val_every, or (val_every 0, auto)
        AUTO_VAL_CHECKS per epoch of training names, 1 to AUTO_VAL_MAX iterations apart, so
        that a short list is checked long before it is memorised and a huge one not too often.
        """
        if self.config.val_every:
            return self.config.val_every
        per_step = 1 if self.config.preset == "classic" else self._batch_names
        steps = -(-len(self.train_rows) // per_step)  # an epoch's steps, rounded up
        return max(1, min(settings.AUTO_VAL_MAX, steps // settings.AUTO_VAL_CHECKS))

    def _report_names(self, count: int, stop: Callable[[], bool] | None) -> list[str]:
        """A report's names in blocks, so a huge count can be stopped (and needs no huge batch).

        Block b draws with seed b * REPORT_BLOCK: for classic, exactly the seed's
        names (name i has seed i); for default, the first block is the one-shot draw.
        """
        sampler, names = self.sampler(), []
        for start in range(0, count, REPORT_BLOCK):
            if stop is not None and stop():
                break
            names += sampler.sample(min(REPORT_BLOCK, count - start), seed=start)
        return names

    @limits_blas
    def validate(self) -> float:
        """Per-character loss on the held-out names; keeps the best parameters seen."""
        if self._evaluator is None:
            raise ValueError("no names are held out (the validation fraction is 0)")
        st = self.state
        model = as_batched(self.config.preset, self.config.cell, self.params)
        if self.config.mixed:
            loss = self._validate_mixed(model)
        elif self.corpus.labelled:  # the same names, summed kind by kind (one pass)
            loss, self.last_val_by_label = self._evaluator.losses_by_label(model)
        else:
            loss = self._evaluator.loss_per_char(model)
        st.val_iterations.append(st.iteration - 1)
        st.val_losses.append(loss)
        if st.best_val is None or loss < st.best_val:
            st.best_val, st.best_iteration = loss, st.iteration - 1
            self.best_params = {k: v.copy() for k, v in self.model_params().items()}
        return loss

    def _validate_mixed(self, net) -> float:
        """The hybrid's held-out loss: the network mixed with the count model, the weight
        fitted on the held-out names (so never above either part's loss there)."""
        count = self.mix_count()
        val = self._names(self.val_rows)
        if self._mix_probs is None:
            self._mix_probs = target_probs(count, val)
        p_net = target_probs(net, val)
        if not np.isfinite(p_net).all():  # a diverged network: the count model alone
            p_net = np.zeros_like(p_net)
        lam = fit_weight(p_net, self._mix_probs)
        self.mix = {**count.to_arrays(), "weight": np.array([lam])}
        with np.errstate(divide="ignore"):
            loss = -np.log(lam * p_net + (1.0 - lam) * self._mix_probs).mean()
        return float(loss) if math.isfinite(loss) else float("inf")

    def mix_count(self) -> KneserNey:
        """The hybrid's count model: order mix_ngram, counted on the training names, tuned
        on the held-out ones (once; a resumed run reads it from its checkpoint)."""
        if self._mix_count is None:
            if self.mix is not None:
                self._mix_count = KneserNey.from_arrays(self.mix)
            else:
                count = KneserNey.fit(self._names(self.train_rows), self.vocab.size,
                                      self.config.mix_ngram)
                count.tune(self._names(self.val_rows))
                self._mix_count = count
        return self._mix_count

    def count_baseline(self) -> tuple[int, float] | None:
        """(order, held-out loss) of the count model on this run's split: what a network
        should beat. The run's own order for cell ngram, the hybrid's, else the setting's
        default. None without held-out names. Counting and tuning take up to ~1 s on 30k
        names: the window asks for it off its thread."""
        if not len(self.val_rows):
            return None
        cfg = self.config
        order = cfg.order if cfg.counts_only else cfg.mix_ngram or settings.TRAINING[
            "order"].default
        val = self._names(self.val_rows)
        if cfg.mixed:
            return order, self.mix_count().held_out_loss(val)
        count = KneserNey.fit(self._names(self.train_rows), self.vocab.size, order)
        return order, count.tune(val)

    def model_params(self) -> dict[str, np.ndarray]:
        """The parameters as a sampler takes them: the hybrid's count model and weight under
        mix/ (once fitted at a held-out check)."""
        if self.mix is None or not self.config.mixed:
            return self.params
        return {**self.params, **{MIX + k: v for k, v in self.mix.items()}}

    # -- early stopping --------------------------------------------------------
    @property
    def checks_since_best(self) -> int:
        """Validations since the one that gave the best held-out loss (0 right after it)."""
        st = self.state
        if st.best_iteration is None:
            return 0
        n = 0
        for it in reversed(st.val_iterations):  # derived from the saved state: resumes exactly
            if it <= st.best_iteration:
                break
            n += 1
        return n

    @property
    def out_of_patience(self) -> bool:
        """Patience is on and the last `patience` validations brought no new best."""
        return self.config.patience > 0 and self.checks_since_best >= self.config.patience

    def patience_message(self) -> str:
        st = self.state
        n = self.checks_since_best
        return (f"no better held-out loss for {n} check{'' if n == 1 else 's'} (best "
                f"{st.best_val:.4f} at iteration {st.best_iteration:,})")

    @limits_blas
    def run(self, n: int, on_step=None) -> list[StepResult]:
        """n steps, fewer when the patience runs out; returns the report steps (with samples)."""
        reports = []
        for _ in range(n):
            r = self.step()
            if on_step is not None:
                on_step(r)
            if r.samples is not None:
                reports.append(r)
            if r.stopped is not None:
                break
        return reports

    def _classic_step(self, lr: float) -> tuple[float, int, int]:
        st, cfg, net = self.state, self.config, self._classic
        if not net.owns(self.params):  # an array was replaced: pack the new values
            net = self._classic = classic.PackedRNN.from_params(self.params)
            self.params = net.params
        # Y = the name's indices + [newline]; X = [None] + the name's indices
        ys = self._encoded.targets(st.order[st.iteration % len(st.order)])
        loss = net.backprop(ys[:-1], ys, st.a_prev)
        if not (math.isfinite(loss) and net.grads_finite()):
            raise TrainingDiverged(DIVERGED)
        net.clip_grads(cfg.clip)
        guard = self._guard_for(net.flat, None)
        guard.before(lr, cfg.clip)
        net.sgd(lr)
        if not guard.after():  # the update overflowed: undone, the weights stay the last good
            raise TrainingDiverged(DIVERGED_WEIGHTS)
        st.a_prev = net.last_state()
        return loss, len(ys), 1

    def _batched_step(self, lr: float) -> tuple[float, int, int]:
        st, cfg, pack = self.state, self.config, self._packed()
        rows = st.order[st.cursor : st.cursor + cfg.batch_size]
        X, Y, mask = self._pad_batch(rows)
        labels = None if self._labels is None else self._labels[rows]
        if cfg.dropout > 0:  # masks drawn from (seed, step): a resumed run draws the same
            rng = np.random.default_rng([cfg.seed, DROPOUT_STREAM, st.iteration])
            loss, grads = self.model.loss_and_grads(X, Y, mask, cfg.dropout, rng, labels)
        else:
            loss, grads = self.model.loss_and_grads(X, Y, mask, labels=labels)
        pack.gather(grads)
        if not (math.isfinite(loss) and pack.grads_finite()):
            raise TrainingDiverged(DIVERGED)
        # every character weighs the same in every step: a bucketed batch of short names
        # would otherwise count as much as one of long names
        chars = int(mask.sum())
        pack.grad *= chars / self._typical_batch_chars()
        pack.clip_grads(cfg.clip)
        guard = self._guard_for(pack.flat, self.optimizer)
        guard.before(lr, cfg.clip, cfg.weight_decay)
        self.optimizer.update_packed(pack, lr, cfg.weight_decay)
        if not guard.after():  # the update overflowed: undone, the weights stay the last good
            raise TrainingDiverged(DIVERGED_WEIGHTS)
        st.cursor += len(rows)
        if st.cursor >= len(st.order):  # epoch done: a fresh shuffle
            rng = np.random.default_rng()
            rng.bit_generator.state = st.rng_state
            st.order = self._epoch_order(rng)
            st.rng_state = rng.bit_generator.state
            st.cursor = 0
            st.epoch += 1
        return loss, chars, len(rows)

    def _packed(self) -> ParamPack:
        """The model's parameters packed into one buffer (packed again if one was replaced)."""
        pack = self._pack
        if pack is None or any(self.params.get(k) is not v for k, v in pack.params.items()):
            pack = self._pack = ParamPack(self.params)
            self.params.update(pack.params)  # the model reads its dict on every call
        return pack

    def _guard_for(self, weights: np.ndarray, optimizer: Optimizer | None) -> StepGuard:
        """The overflow guard of this flat parameter buffer (a new one if it was repacked)."""
        guard = self._guard
        if guard is None or guard.weights is not weights or guard.optimizer is not optimizer:
            guard = self._guard = StepGuard(weights, optimizer)
        return guard

    def _blas_threads(self) -> int:
        """BLAS threads for this model's steps (core.threads.threads_for: by its largest
        repeated product and the idle cores now; the seed's one name per step and the count
        model stay at one)."""
        cfg = self.config
        if cfg.preset == "classic" or cfg.counts_only:
            return TRAINING_THREADS
        return threads_for(self._batch_names, cfg.hidden, GATES[cfg.cell], idle_cores())

    @property
    def _batch_names(self) -> int:
        """Names per step: batch_size, or every training name when there are fewer."""
        return max(1, min(self.config.batch_size, len(self.train_rows)))

    def _typical_batch_chars(self) -> float:
        """Characters a batch of _batch_names training names holds on average."""
        typical = self._batch_chars
        if typical is None:
            lengths = self._encoded.lengths[self.train_rows] + 1  # + the newline
            typical = self._batch_chars = float(lengths.mean()) * self._batch_names
        return typical

    def _pad_batch(self, rows: np.ndarray):
        """(T, B) inputs, targets and mask for these names, padded at the end."""
        return self._encoded.pad_batch(rows, self.params["W_hy"].dtype)

    def _epoch_order(self, rng: np.random.Generator) -> np.ndarray:
        """The next epoch's names, batch by batch, each batch of similar lengths."""
        return bucketed_order(self.train_rows, self._encoded.lengths, self._batch_names, rng)

    # -- health hook (core/health.py reads it; nothing in training uses it) ----------
    def last_grads(self) -> dict[str, np.ndarray]:
        """The gradients the last step applied (scaled and clipped), by parameter name.

        Views into the step's own buffers: valid until the next step, read-only.
        """
        holder = self._classic if self.config.preset == "classic" else self._pack
        if holder is None:
            raise ValueError("no step has been taken yet")
        return holder.grads

    # -- using the model -------------------------------------------------------
    def sampler(self, copy_params: bool = False, best: bool = False) -> sampling.NameSampler:
        """The model as a sampler; copy_params makes it a snapshot that training leaves alone.

        best: the parameters with the lowest validation loss so far, when there are any.
        """
        params = self.best_params if best and self.best_params is not None \
            else self.model_params()
        if copy_params:
            params = {k: v.copy() for k, v in params.items()}
        return sampling.NameSampler(self.config.preset, self.config.cell, params, self.vocab,
                                    self.config.max_len, self.corpus.labels)

    def held_out_by_label(self, best: bool = False) -> dict[str, float]:
        """A labelled model's held-out loss per character, label by label ({} otherwise)."""
        if self._evaluator is None or not self.corpus.labelled:
            return {}
        params = self.best_params if best and self.best_params is not None else self.params
        losses = self._evaluator.loss_per_label(MODELS[self.config.cell](params))
        return dict(zip(self.corpus.labels, losses, strict=True))

    def sample(self, count: int, seed: int = 0, temperature: float = 1.0,
               max_len: int | None = None) -> list[str]:
        return self.sampler().sample(count, seed, temperature, max_len)


DIVERGED = ("the loss became NaN or infinite (is the learning rate too high?); "
            "the parameters were kept as they were before this step")
DIVERGED_WEIGHTS = ("the update made the weights infinite or too large (is the learning rate "
                    "too high?); "
                    "the parameters were kept as they were before this step")
