// A name generator exported by dinogui: one ES module, for browsers and Node.
//
//   node names.mjs --count 10 --seed 3              ten names
//   node names.mjs --prefix ty --temperature 0.8    names starting with "ty"
//   node names.mjs --score tyrannosaurus            how likely the model finds a name
//
//   import { sample, score } from "./names.mjs";
//   sample({ count: 5, seed: 1 })   -> five names (an array of strings)
//   score("tyrannosaurus")          -> log-likelihood per character, in nats
//
// The model is a network (rnn, gru or lstm), a count model (an interpolated Kneser-Ney
// n-gram) or a hybrid of the two (their next-letter distributions mixed with a fitted
// weight). Draws are deterministic: one mulberry32 stream, seeded with `seed` (0 to
// 2**32 - 1), gives one uniform number per drawn letter, and a letter is picked by
// inverse CDF from softmax(logits / temperature), the logits being the log of the
// probabilities for a count model or a hybrid: the same names as the Python export of
// the same model. Scores are computed in float64 and equal `dinogui score` on the checkpoint.
// The model (weights or counts, vocabulary, architecture) is MODEL below; its keys are described
// in dinogui's docs/export.md.

const MAX_SEED = 4294967295;

// -- the random numbers: mulberry32, as in the Python export ------------------------------
export function mulberry32(seed) {
  let a = seed | 0;
  return function uniform() {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t = (t + Math.imul(t ^ (t >>> 7), t | 61)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// -- the model -----------------------------------------------------------------------------
function bytesOf(text) {
  const raw = atob(text);
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return bytes;
}

const READERS = {
  float64: [8, (v, at) => v.getFloat64(at, true)],
  float32: [4, (v, at) => v.getFloat32(at, true)],
  uint32: [4, (v, at) => v.getUint32(at, true)],
  uint16: [2, (v, at) => v.getUint16(at, true)],
  uint8: [1, (v, at) => v.getUint8(at)],
};

// A stored array as a Float64Array (row-major) with its shape.
function array(spec) {
  const view = new DataView(bytesOf(spec.base64).buffer);
  const [size, read] = READERS[spec.dtype];
  const out = new Float64Array(view.byteLength / size);
  for (let i = 0; i < out.length; i++) out[i] = read(view, i * size);
  return { data: out, rows: spec.shape[0], cols: spec.shape.length > 1 ? spec.shape[1] : 1 };
}

const sigmoid = (x) => 0.5 * Math.tanh(0.5 * x) + 0.5;

// v (n) times m (n, cols) plus b: a new Float64Array (cols)
function vecmat(v, m, b) {
  const out = Float64Array.from(b.data);
  for (let i = 0; i < m.rows; i++) {
    const vi = v[i];
    if (vi === 0) continue;
    const row = i * m.cols;
    for (let j = 0; j < m.cols; j++) out[j] += vi * m.data[row + j];
  }
  return out;
}

class Network {
  constructor(model) {
    this.cell = model.architecture.cell;
    this.hidden = model.architecture.hidden;
    this.layers = model.layers.map((p) => ({
      W_x: array(p.W_x), W_h: array(p.W_h), b: array(p.b),
      b_hn: p.b_hn ? array(p.b_hn) : null,
    }));
    this.W_hy = array(model.head.W_hy);
    this.b_y = array(model.head.b_y);
    this.zeros = { data: new Float64Array(this.layers[0].b.data.length) };
    // a labelled model: one row per label, added to layer 0's input projection
    this.E = model.label_embedding ? array(model.label_embedding) : null;
  }

  // the blend of label rows sum(w_l * E[l]) that layer 0 adds at every step
  labelBias(weights) {
    const bias = new Float64Array(this.E.cols);
    weights.forEach((w, l) => {
      for (let j = 0; j < bias.length; j++) bias[j] += w * this.E.data[l * this.E.cols + j];
    });
    return bias;
  }

  start() {
    const parts = this.cell === "lstm" ? 2 : 1;
    return this.layers.map(() => Array.from({ length: parts }, () => new Float64Array(this.hidden)));
  }

  // [logits, next state] after reading character x (-1: the start, a zero input)
  // bias: a labelled model's labelBias
  step(state, x, bias = null) {
    const H = this.hidden;
    const next = [];
    let inp = null;
    this.layers.forEach((p, i) => {
      let zx;
      if (i === 0) {
        zx = Float64Array.from(p.b.data);
        if (x >= 0) for (let j = 0; j < zx.length; j++) zx[j] += p.W_x.data[x * p.W_x.cols + j];
        if (bias) for (let j = 0; j < zx.length; j++) zx[j] += bias[j];
      } else {
        zx = vecmat(inp, p.W_x, p.b);
      }
      const hPrev = state[i][0];
      const a = vecmat(hPrev, p.W_h, this.zeros);
      const h = new Float64Array(H);
      if (this.cell === "rnn") {
        for (let j = 0; j < H; j++) h[j] = Math.tanh(zx[j] + a[j]);
        next.push([h]);
      } else if (this.cell === "gru") {
        for (let j = 0; j < H; j++) {
          const r = sigmoid(zx[j] + a[j]);
          const z = sigmoid(zx[H + j] + a[H + j]);
          const n = Math.tanh(zx[2 * H + j] + r * (a[2 * H + j] + p.b_hn.data[j]));
          h[j] = (1 - z) * n + z * hPrev[j];
        }
        next.push([h]);
      } else {
        const cPrev = state[i][1];
        const c = new Float64Array(H);
        for (let j = 0; j < H; j++) {
          const s = (k) => zx[k * H + j] + a[k * H + j];
          c[j] = sigmoid(s(1)) * cPrev[j] + sigmoid(s(0)) * Math.tanh(s(3));
          h[j] = sigmoid(s(2)) * Math.tanh(c[j]);
        }
        next.push([h, c]);
      }
      inp = h;
    });
    return [vecmat(inp, this.W_hy, this.b_y), next];
  }
}

// Interpolated Kneser-Ney over characters (dinogui's core/models/ngram.py). Order k (a
// context h of k - 1 symbols) mixes its counts a_k with order k - 1's probabilities, from
// the uniform 1/V below order 1:
//   P_k(w | h) = (max(a_k(h w) - D_k, 0) + D_k * T_k(h) * P_{k-1}(w | h')) / A_k(h)
// A_k(h) the counts after h summed, T_k(h) how many there are, h' = h without its oldest
// symbol; a context never counted leaves P_{k-1} as it is. Its logits are the
// log-probabilities of the top order.
class CountModel {
  constructor(spec) {
    this.order = spec.order;
    this.vocabSize = spec.vocab_size;
    this.startSymbol = spec.start;
    this.discounts = spec.discounts;
    // per order: Map context key -> { total: A_k(h), types: T_k(h), nexts: [w...], counts: [a...] }
    this.levels = spec.levels.map((level, i) => {
      const k = i + 1;
      const grams = array(level.grams).data;
      const counts = array(level.counts).data;
      const table = new Map();
      for (let g = 0; g < counts.length; g++) {
        const key = Array.from(grams.subarray(g * k, g * k + k - 1)).join(",");
        let entry = table.get(key);
        if (entry === undefined) {
          entry = { total: 0, types: 0, nexts: [], counts: [] };
          table.set(key, entry);
        }
        entry.total += counts[g];
        entry.types += 1;
        entry.nexts.push(grams[g * k + k - 1]);
        entry.counts.push(counts[g]);
      }
      return table;
    });
  }

  start() {
    return Array(this.order - 1).fill(this.startSymbol);
  }

  // [log-probabilities, the last order - 1 symbols] after reading x (-1: the start)
  step(state, x) {
    const next = [...state, x < 0 ? this.startSymbol : x].slice(1);
    let p = new Float64Array(this.vocabSize).fill(1 / this.vocabSize);
    this.levels.forEach((table, i) => {
      const entry = table.get(next.slice(next.length - i).join(","));
      if (entry === undefined) return;
      const d = this.discounts[i];
      const share = d * entry.types;
      const q = p.map((pw) => share * pw / entry.total);
      entry.nexts.forEach((w, j) => {
        q[w] = (Math.max(entry.counts[j] - d, 0) + share * p[w]) / entry.total;
      });
      p = q;
    });
    return [Array.from(p, Math.log), next];
  }
}

function logSoftmax(z) {
  let top = -Infinity;
  for (const v of z) top = Math.max(top, v);
  let total = 0;
  for (const v of z) total += Math.exp(v - top);
  const logTotal = Math.log(total);
  return Array.from(z, (v) => v - top - logTotal);
}

function logAddExp(a, b) {
  return Math.max(a, b) + Math.log1p(Math.exp(-Math.abs(a - b)));
}

// The hybrid: weight * p_network + (1 - weight) * p_count; its logits are the log.
class Mixture {
  constructor(net, count, weight) {
    this.net = net;
    this.count = count;
    this.weight = weight;
  }

  start() {
    return [this.net.start(), this.count.start()];
  }

  step(state, x) {
    const [netLogits, netState] = this.net.step(state[0], x);
    const [countLogits, countState] = this.count.step(state[1], x);
    const lam = this.weight;
    const next = [netState, countState];
    if (lam === 0 || lam === 1) return [lam === 1 ? netLogits : countLogits, next];
    const a = Math.log(lam);
    const b = Math.log1p(-lam);
    const n = logSoftmax(netLogits);
    const c = logSoftmax(countLogits);
    return [n.map((u, i) => logAddExp(a + u, b + c[i])), next];
  }
}

// The network, the count model or the hybrid the MODEL describes.
function predictor(model) {
  const net = model.layers ? new Network(model) : null;
  const count = model.ngram ? new CountModel(model.ngram) : null;
  if (net && count) return new Mixture(net, count, model.mix_weight);
  return net || count;
}

function quoted(text) {
  return "'" + text.replace(/\\/g, "\\\\").replace(/'/g, "\\'") + "'";
}

export class Generator {
  constructor(model) {
    this.model = model;
    this.chars = model.vocabulary; // index 0 is the end of a name, "\n"
    this.index = new Map(this.chars.map((ch, i) => [ch, i]));
    this.labels = model.labels;
    this.maxLen = model.max_len;
    this.net = predictor(model);
  }

  // A label or a blend "a:0.7,b:0.3" (positive weights, normalised to sum to 1) as the bias
  // layer 0 adds; a labelled model without a label: every label alike.
  checkLabel(label) {
    const known = this.labels.length ? this.labels.join(", ") : "none: this model has no labels";
    const L = this.labels.length;
    if (label === undefined || label === null) {
      return L ? this.net.labelBias(this.labels.map(() => 1 / L)) : null;
    }
    if (!L) throw new Error(`unknown label ${quoted(label)} (known labels: ${known})`);
    const weights = this.labels.map(() => 0);
    for (const part of label.split(",")) {
      const cut = part.lastIndexOf(":");
      const name = (cut < 0 ? part : part.slice(0, cut)).trim();
      const text = cut < 0 ? "1" : part.slice(cut + 1);
      const k = this.labels.indexOf(name);
      if (k < 0) throw new Error(`unknown label ${quoted(name)} (known labels: ${known})`);
      const w = Number(text);
      if (text.trim() === "" || Number.isNaN(w)) {
        throw new Error(`the weight of ${quoted(name)} is ${quoted(text)}, not a number`);
      }
      if (!(Number.isFinite(w) && w > 0) || weights[k]) {
        throw new Error(`the weight of ${quoted(name)} must be a positive number, given once`);
      }
      weights[k] = w;
    }
    const total = weights.reduce((a, b) => a + b, 0);
    return this.net.labelBias(weights.map((w) => w / total));
  }

  encode(text, what) {
    if (this.model.lowercase) text = text.toLowerCase();
    const codes = [];
    for (const ch of text) {
      if (!this.index.has(ch) || ch === "\n") {
        throw new Error(`cannot ${what} ${quoted(text)}: character ${quoted(ch)} is not in ` +
          "the vocabulary of this model");
      }
      codes.push(this.index.get(ch));
    }
    return codes;
  }

  // Log-likelihood per character (nats): the letters and the end, over len(name) + 1.
  score(name, label = null) {
    const bias = this.checkLabel(label);
    const codes = this.encode(name, "score");
    let state = this.net.start();
    let x = -1;
    let total = 0;
    for (const target of [...codes, 0]) {
      let logits;
      [logits, state] = this.net.step(state, x, bias);
      total += logSoftmax(logits)[target];
      x = target;
    }
    return total / (codes.length + 1);
  }

  // `count` names from one mulberry32 stream seeded with `seed`; an empty name is drawn again.
  sample({ count = 10, seed = 0, temperature = 1, prefix = "", maxLen = null, label = null } = {}) {
    const bias = this.checkLabel(label);
    maxLen = maxLen === null || maxLen === undefined ? this.maxLen : maxLen;
    if (!(Number.isInteger(count) && count >= 0 && Number.isInteger(seed) && seed >= 0 &&
          seed <= MAX_SEED)) {
      throw new Error(`count must be 0 or more and seed 0 to ${MAX_SEED}`);
    }
    if (!(temperature > 0) || !(maxLen >= 1)) {
      throw new Error("temperature must be positive and max_len at least 1");
    }
    const start = this.encode(prefix, "start with");
    if (start.length > maxLen) {
      throw new Error(`the prefix ${quoted(prefix)} is longer than max_len (${maxLen})`);
    }
    const uniform = mulberry32(seed);
    const names = [];
    for (let n = 0; n < count; n++) {
      let codes = [];
      for (let attempt = 0; attempt < 100; attempt++) {
        codes = this.draw(start, uniform, temperature, maxLen, bias);
        if (codes.length) break;
      }
      names.push(codes.map((i) => this.chars[i]).join(""));
    }
    return names;
  }

  draw(start, uniform, temperature, maxLen, bias = null) {
    let state = this.net.start();
    let x = -1;
    for (const code of start) {
      [, state] = this.net.step(state, x, bias);
      x = code;
    }
    const codes = [...start];
    while (codes.length < maxLen) {
      let logits;
      [logits, state] = this.net.step(state, x, bias);
      let top = -Infinity;
      for (const v of logits) top = Math.max(top, v);
      const weights = Array.from(logits, (v) => Math.exp((v - top) / temperature));
      let total = 0;
      for (const w of weights) total += w;
      const target = uniform() * total;
      let acc = 0;
      x = -1;
      for (let i = 0; i < weights.length; i++) {
        acc += weights[i];
        if (acc > target) { x = i; break; }
      }
      if (x < 0) { // rounding left the total below the draw: the last possible letter
        for (let i = 0; i < weights.length; i++) if (weights[i] > 0) x = i;
      }
      if (x === 0) break;
      codes.push(x);
    }
    return codes;
  }
}

const MODEL = null; // dinogui export replaces this line with the model

export const generator = MODEL ? new Generator(MODEL) : null;
export const labels = MODEL ? MODEL.labels : [];

export function sample(options = {}) {
  return generator.sample(options);
}

export function score(name, label = null) {
  return generator.score(name, label);
}

// -- the command line, under Node ----------------------------------------------------------
function parseArgs(argv) {
  const args = { count: 10, seed: 0, temperature: 1, prefix: "", maxLen: null, label: null,
                 score: null };
  const number = (flag, text, integer, low, high = Infinity) => {
    const value = Number(text);
    if (text === undefined || text.trim() === "" || Number.isNaN(value) ||
        (integer && !Number.isInteger(value))) {
      throw new Error(`argument ${flag}: ${quoted(String(text))} is not a number`);
    }
    if (!(value >= low && value <= high) || (!integer && value === 0 && low === 0)) {
      throw new Error(`argument ${flag}: ${quoted(text)} is out of range`);
    }
    return value;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`argument ${flag}: expected one argument`);
      return argv[++i];
    };
    if (flag === "--count") args.count = number(flag, value(), true, 1);
    else if (flag === "--seed") args.seed = number(flag, value(), true, 0, MAX_SEED);
    else if (flag === "--temperature") args.temperature = number(flag, value(), false, 0);
    else if (flag === "--max-len") args.maxLen = number(flag, value(), true, 1);
    else if (flag === "--prefix") args.prefix = value();
    else if (flag === "--label") args.label = value();
    else if (flag === "--score") {
      args.score = argv.slice(i + 1);
      if (!args.score.length) throw new Error("argument --score: expected at least one NAME");
      break;
    } else if (flag === "-h" || flag === "--help") {
      args.help = true;
    } else throw new Error(`unrecognized arguments: ${flag}`);
  }
  return args;
}

export function main(argv) {
  try {
    const args = parseArgs(argv);
    let lines;
    if (args.help) {
      lines = ["usage: node generator.mjs [--count N] [--seed S] [--label L] " +
               "[--temperature T] [--prefix P] [--max-len N] [--score NAME ...]"];
    } else if (args.score && labels.length && args.label === null) { // a column per label
      lines = [["name", ...labels, "best"].join("\t")];
      for (const name of args.score) {
        const row = labels.map((l) => score(name, l));
        const best = labels[row.indexOf(Math.max(...row))];
        lines.push([name, ...row.map((v) => v.toFixed(6)), best].join("\t"));
      }
    } else if (args.score) {
      lines = args.score.map((name) => `${name}\t${score(name, args.label).toFixed(6)}`);
    } else {
      lines = sample(args).map((n) => n.slice(0, 1).toUpperCase() + n.slice(1));
    }
    process.stdout.write(lines.map((line) => line + "\n").join(""));
    return 0;
  } catch (e) {
    process.stderr.write(`error: ${e.message}\n`);
    return 2;
  }
}

const isNode = typeof process !== "undefined" && process.versions && process.versions.node;
if (isNode && process.argv[1]) {
  const { pathToFileURL } = await import("node:url");
  const { realpathSync } = await import("node:fs");
  if (import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
    process.exitCode = main(process.argv.slice(2));
  }
}
