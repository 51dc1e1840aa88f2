"""The settings panel's rows, in the words a user reads: each field's label with its
Alt+letter mnemonic, its tooltip, and the words for a choice's values. Types, ranges and
defaults are the settings table's (core.settings); dinogui/widgets/hyperparams.py builds
the fields from both."""

from __future__ import annotations

from dinogui.core.settings import TRAINING

SCHEDULE_LABELS = {"constant": "Constant", "cosine": "Cosine", "linear": "Linear"}

PRESET_TIPS = {
    "classic": "The original exercise (Dinosaurus Island), exact to its numbers: a tanh RNN, "
               "one name per step with the hidden state carried over, SGD, gradients clipped, "
               "the seed's smoothed loss per name and its sampling. No names are held out.",
    "default": "Faster: mini-batches of names in float32 with Adam (or another optimizer), a "
               "choice of cell, the loss per character, and a held-out tenth of the names, "
               "whose curve shows when the model stops generalising (Patience stops there).",
    "quality": "The default preset's engine with everything picked for a time budget: the "
               "model for your list, a cosine learning rate falling to 0 as the Budget ends, "
               "and the weights of the lowest held-out loss kept for sampling.",
}
CELL_TIPS = {"rnn": "tanh RNN (the seed's cell)", "gru": "gated recurrent unit",
             "lstm": "long short-term memory",
             "ngram": "a count model (interpolated Kneser-Ney), fitted in one step"}
CELL_LABELS = {"rnn": "RNN (tanh)", "gru": "GRU", "lstm": "LSTM", "ngram": "N-gram (counts)"}
OPTIMIZER_LABELS = {"sgd": "SGD", "adagrad": "Adagrad", "adam": "Adam"}

# The panel's rows: (field, label with its Alt+letter mnemonic, tooltip). Mnemonics are
# unique in the window together with the menus (F T A V H) and the Sample panel
# (U E M K R W); the letters ran out, so the three fields beside the rate take 1 2 3
# (and the quality preset's Budget 5);
# QFormLayout makes each label its field's buddy. Types and ranges are the
# settings table's (core.settings); "budget" is the Iterations field.
MODEL_ROWS = (
    ("preset", "&Preset", "Which training recipe: default (faster, with the held-out curve), "
     "quality (the best model for a time budget) or classic (the original exercise, exact to "
     "its numbers)"),
    ("cell", "&Cell", "The recurrent cell: " + "; ".join(
        f"{c}: {CELL_TIPS[c]}" for c in TRAINING["cell"].choices)),
    ("order", "N-gram order (&J)", "The count model's order: each letter is predicted from "
     "the order - 1 letters before it (its discounts are tuned on the held-out names)"),
    ("layers", "La&yers", "Recurrent layers stacked on each other"),
    ("hidden", "Hi&dden units", "Hidden units per layer: more remember more and train slower "
     "(the original exercise: 50)"),
    ("optimizer", "Optimi&zer", "How the gradients update the weights"),
    ("batch_size", "&Batch size", "Names per training step"),
    ("mix_ngram", "Mix n-gram (&4)", "Mix the network with a count model of this order: at each "
     "held-out check the mixing weight is fitted on the held-out names, so the model is never "
     "worse there than the count model alone. 'off': the network alone"),
    ("seed", "&Seed", "Seeds the initial weights and the order of the names: the same seed "
     "gives the same run"),
)
TRAINING_ROWS = (  # how long first: in view without scrolling at 1024x768
    ("budget", "&Iterations", "Train until this iteration, then stop; 'unlimited' trains until "
     "you pause (the original exercise: 35,000)"),
    ("time_budget", "Budget, seconds (&5)", "The quality preset's one knob: seconds of training "
     "in all. The learning rate falls to 0 as they end, and training stops there; raise it to "
     "train on. Applies at the next step, even while training."),
    # the patience: every other letter is taken
    ("patience", "&Quiet checks", "Patience (early stopping): stop after this many quiet checks "
     "in a row, held-out checks (four per pass over the names, at most 500 iterations apart, "
     "and at each report) that bring no better held-out loss. 'off' trains to the "
     "iterations.\n"
     "Applies at the next check, even while training; the best weights are kept for sampling "
     "(From the best)."),
    ("lr", "&Learning rate", "Learning rate: the step size of each update (the original "
     "exercise: 0.01). Applies at the next step, even while training.\n"
     "Too large and the loss blows up; training then pauses."),
    ("lr_schedule", "Schedule (&1)", "How the learning rate changes: constant, or down to 0 at the "
     "Iterations along a cosine or a straight line (after any warm-up)"),
    ("warmup", "Warm-up (&2)", "The learning rate rises linearly to its value over this many "
     "first iterations"),
    ("weight_decay", "Weight decay (&3)", "Shrinks the weights a little each step: decoupled "
     "(AdamW) for Adam, L2 added to the gradient for SGD and Adagrad. Default preset only."),
    ("clip", "&Gradient clip", "Gradients are clipped to [-clip, clip] (the original exercise: "
     "5). Applies at the next step."),
    ("sample_every", "Rep&ort every", "Report (and draw names into the log) every this many "
     "iterations (the original exercise: 2000)"),
    ("samples", "&Names per report", "Names drawn at each report (the original exercise: 7)"),
)
FIELD_MIN_WIDTH = 52  # a field's least width: the settings column fits LEFT_MIN_WIDTH
# what one arrow press adds
FIELD_STEPS = {"hidden": 10, "batch_size": 8, "sample_every": 500, "budget": 1000,
               "time_budget": 60}
CHOICE_LABELS = {"cell": CELL_LABELS, "optimizer": OPTIMIZER_LABELS,
                 "lr_schedule": SCHEDULE_LABELS}
# the TrainConfig fields the panel shows (all but the budget)
CONFIG_FIELDS = tuple(n for n, _l, _t in MODEL_ROWS + TRAINING_ROWS if n != "budget")
