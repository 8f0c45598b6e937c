/**
 * Writes a tiny Qwen2-shaped GGUF (v3) that node-llama-cpp loads like a real model, for tests and benches: no real
 * weights can be downloaded in CI. Layout facts: llama.cpp's gguf-py/gguf/constants.py and src/llama-model.cpp.
 *
 * The weights are chosen, not trained. The attention and FFN output projections are zero (unless `noise` is set), so
 * every block adds nothing to the residual stream and the hidden state at a position is the embedding of the token
 * there. Each token's embedding has a shared "bias" dimension plus, for the characters that steer generation, a
 * dimension of its own; the output matrix reads both. The model is therefore an exact bigram table: `steer` says
 * which character follows which, and grammar-constrained greedy decoding walks it deterministically. The transformer
 * still does all its work (matmuls over zeros cost the same), so timings are real.
 *
 * With `flag`, the answer also depends on the prompt. One attention head of the first block has a constant query and
 * a key only at the marker character, so a position attends to the marker wherever it appears before it (the score
 * dwarfs every other position's) and to nothing in particular when it is absent; its value, read into a "flag"
 * dimension of the residual stream, is about 1 after a marker and exactly 0 without one. The output matrix reads the
 * flag as a bonus for the `boost` characters: enough to turn a second choice of the bigram table into the first, too
 * little to beat a first choice. The query and key sit in the slowest-turning RoPE pair, so the distance between the
 * marker and the answer hardly matters.
 */
import { writeFileSync } from "node:fs";

export interface TinyGgufOptions {
  /**
   * Preferred successors: `steer["\""] = "f"` makes `f` the first choice after `"`. A string of several characters
   * ranks them (first = most preferred). Characters not listed fall back to `order`.
   */
  readonly steer?: Readonly<Record<string, string>>;
  /** Global preference among the remaining characters, most preferred first. Whitespace is always last. */
  readonly order?: string;
  readonly embedding?: number;
  readonly layers?: number;
  readonly feedForward?: number;
  readonly contextLength?: number;
  /** Scale of random values in the blocks' output projections: > 0 makes the output depend on the whole prompt. */
  readonly noise?: number;
  readonly seed?: number;
  /** When `marker` (one ASCII character) appears anywhere in the context, the `boost` characters are preferred. */
  readonly flag?: { readonly marker: string; readonly boost: string };
}

/** Bonus of a boosted character with the flag up, in the units where a bigram's first choice scores 100. */
const FLAG_BONUS = 20;

const HEADS = 4;
const KV_HEADS = 2;
const SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"] as const;
const CHAT_TEMPLATE =
  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

/** GPT-2's byte → printable character table (byte-level BPE vocabularies spell bytes with these). */
function byteChars(): string[] {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const chars: string[] = [];
  let extra = 0;
  for (let b = 0; b < 256; b++) chars.push(String.fromCodePoint(printable.includes(b) ? b : 256 + extra++));
  return chars;
}

/** Tiny deterministic PRNG (mulberry32): the same options always give the same bytes. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class GgufBuilder {
  private readonly parts: Buffer[] = [];
  private kvCount = 0;
  private readonly tensors: { name: string; dims: number[]; data: Float32Array }[] = [];

  private str(value: string): Buffer {
    const bytes = Buffer.from(value, "utf8");
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(bytes.length));
    return Buffer.concat([len, bytes]);
  }
  private u32(value: number): Buffer {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(value);
    return b;
  }
  private u64(value: number): Buffer {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(value));
    return b;
  }
  private f32(value: number): Buffer {
    const b = Buffer.alloc(4);
    b.writeFloatLE(value);
    return b;
  }
  private kv(key: string, type: number, value: Buffer): void {
    this.parts.push(this.str(key), this.u32(type), value);
    this.kvCount++;
  }
  string(key: string, value: string): void {
    this.kv(key, 8, this.str(value));
  }
  uint32(key: string, value: number): void {
    this.kv(key, 4, this.u32(value));
  }
  float32(key: string, value: number): void {
    this.kv(key, 6, this.f32(value));
  }
  bool(key: string, value: boolean): void {
    this.kv(key, 7, Buffer.from([value ? 1 : 0]));
  }
  strings(key: string, values: readonly string[]): void {
    this.kv(key, 9, Buffer.concat([this.u32(8), this.u64(values.length), ...values.map((v) => this.str(v))]));
  }
  int32s(key: string, values: readonly number[]): void {
    const body = Buffer.alloc(values.length * 4);
    values.forEach((v, i) => body.writeInt32LE(v, i * 4));
    this.kv(key, 9, Buffer.concat([this.u32(5), this.u64(values.length), body]));
  }
  floats(key: string, values: readonly number[]): void {
    const body = Buffer.alloc(values.length * 4);
    values.forEach((v, i) => body.writeFloatLE(v, i * 4));
    this.kv(key, 9, Buffer.concat([this.u32(6), this.u64(values.length), body]));
  }
  /** `dims` in ggml order: the first is the contiguous one. */
  tensor(name: string, dims: number[], data: Float32Array): void {
    this.tensors.push({ name, dims, data });
  }

  build(): Buffer {
    const ALIGN = 32;
    const infos: Buffer[] = [];
    let offset = 0;
    for (const t of this.tensors) {
      infos.push(this.str(t.name), this.u32(t.dims.length), ...t.dims.map((d) => this.u64(d)), this.u32(0 /* F32 */), this.u64(offset));
      offset += Math.ceil(t.data.byteLength / ALIGN) * ALIGN;
    }
    const header = Buffer.concat([Buffer.from("GGUF", "latin1"), this.u32(3), this.u64(this.tensors.length), this.u64(this.kvCount), ...this.parts, ...infos]);
    const pad = (n: number): Buffer => Buffer.alloc((ALIGN - (n % ALIGN)) % ALIGN);
    const data: Buffer[] = [];
    for (const t of this.tensors) {
      const bytes = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
      data.push(bytes, pad(bytes.length));
    }
    return Buffer.concat([header, pad(header.length), ...data]);
  }
}

/** The GGUF file's bytes. */
export function tinyGguf(options: TinyGgufOptions = {}): Buffer {
  const n = options.embedding ?? 64;
  const layers = options.layers ?? 2;
  const ff = options.feedForward ?? 128;
  const headDim = n / HEADS;
  const kv = headDim * KV_HEADS;
  const rand = random(options.seed ?? 42);
  const chars = byteChars();
  const tokens = [...chars, ...SPECIALS];
  const vocab = tokens.length;
  const idOf = (ch: string): number => ch.codePointAt(0) ?? 0; // ASCII only: byte value = token id

  const g = new GgufBuilder();
  g.string("general.architecture", "qwen2");
  g.string("general.name", "orc-tiny-qwen2");
  g.uint32("general.alignment", 32);
  g.uint32("qwen2.context_length", options.contextLength ?? 32_768);
  g.uint32("qwen2.embedding_length", n);
  g.uint32("qwen2.block_count", layers);
  g.uint32("qwen2.feed_forward_length", ff);
  g.uint32("qwen2.attention.head_count", HEADS);
  g.uint32("qwen2.attention.head_count_kv", KV_HEADS);
  g.float32("qwen2.rope.freq_base", 1_000_000);
  g.float32("qwen2.attention.layer_norm_rms_epsilon", 1e-6);
  g.string("tokenizer.ggml.model", "gpt2");
  g.string("tokenizer.ggml.pre", "qwen2");
  g.strings("tokenizer.ggml.tokens", tokens);
  g.int32s("tokenizer.ggml.token_type", tokens.map((_, i) => (i < 256 ? 1 : 3)));
  // One merge keeps tokenizers that insist on a non-empty list happy; its result is not in the vocabulary's hot path.
  g.strings("tokenizer.ggml.merges", ["Ġ Ġ"]);
  g.uint32("tokenizer.ggml.bos_token_id", 256);
  g.uint32("tokenizer.ggml.eos_token_id", 258);
  g.uint32("tokenizer.ggml.padding_token_id", 256);
  g.bool("tokenizer.ggml.add_bos_token", false);
  g.string("tokenizer.chat_template", CHAT_TEMPLATE);

  // Dimension 0 is the shared bias; steered context characters get dimensions 1.. of their own.
  const steer = options.steer ?? {};
  const contexts = Object.keys(steer);
  const reserved = options.flag === undefined ? 1 : 3; // the bias dimension, and the flag's marker and flag dimensions
  if (contexts.length > n - reserved) throw new Error(`tiny-gguf: at most ${String(n - reserved)} steered characters`);
  const embd = new Float32Array(vocab * n);
  const out = new Float32Array(vocab * n);
  for (let t = 0; t < vocab; t++) embd[t * n] = 1;
  contexts.forEach((ctx, k) => {
    const row = idOf(ctx) * n;
    embd[row + k + 1] = 1;
    const prefs = Array.from(steer[ctx] ?? "");
    prefs.forEach((next, rank) => {
      out[idOf(next) * n + k + 1] = 100 - rank * 5;
    });
  });
  // Global bias: `order` first, then other printable ASCII, whitespace and control bytes last. Of the specials only
  // <|im_end|> (end of turn) is likely: the grammar allows it once the JSON is complete, and then it ends the answer.
  const order = Array.from(options.order ?? "");
  for (let t = 0; t < vocab; t++) {
    const ch = tokens[t] ?? "";
    const rank = order.indexOf(ch);
    let bias = rank >= 0 ? 10 - rank * 0.5 : -5;
    if (t < 0x21 || t === 0x7f || t >= 256) bias = -30;
    if (t >= 256) bias = t === 258 ? 20 : -60;
    out[t * n] = bias;
  }

  const ones = (len: number): Float32Array => new Float32Array(len).fill(1);
  const noisy = (len: number, scale: number): Float32Array => {
    const a = new Float32Array(len);
    for (let i = 0; i < len; i++) a[i] = (rand() * 2 - 1) * scale;
    return a;
  };
  const noise = options.noise ?? 0;
  const flag = options.flag === undefined ? undefined : flagDims(options.flag, n, embd, out, idOf);
  g.tensor("token_embd.weight", [n, vocab], embd);
  g.tensor("output_norm.weight", [n], ones(n));
  g.tensor("output.weight", [n, vocab], out);
  for (let l = 0; l < layers; l++) {
    const p = `blk.${String(l)}.`;
    const attn = {
      q: noisy(n * n, 0.1),
      qb: noisy(n, 0.1),
      k: noisy(n * kv, 0.1),
      kb: noisy(kv, 0.1),
      v: noisy(n * kv, 0.1),
      vb: noisy(kv, 0.1),
      o: noisy(n * n, noise),
    };
    if (l === 0 && flag !== undefined) flagHead(attn, n, headDim, flag);
    g.tensor(`${p}attn_norm.weight`, [n], ones(n));
    g.tensor(`${p}attn_q.weight`, [n, n], attn.q);
    g.tensor(`${p}attn_q.bias`, [n], attn.qb);
    g.tensor(`${p}attn_k.weight`, [n, kv], attn.k);
    g.tensor(`${p}attn_k.bias`, [kv], attn.kb);
    g.tensor(`${p}attn_v.weight`, [n, kv], attn.v);
    g.tensor(`${p}attn_v.bias`, [kv], attn.vb);
    g.tensor(`${p}attn_output.weight`, [n, n], attn.o);
    g.tensor(`${p}ffn_norm.weight`, [n], ones(n));
    g.tensor(`${p}ffn_gate.weight`, [n, ff], noisy(n * ff, 0.1));
    g.tensor(`${p}ffn_up.weight`, [n, ff], noisy(n * ff, 0.1));
    g.tensor(`${p}ffn_down.weight`, [ff, n], noisy(ff * n, noise));
  }
  return g.build();
}

/** The flag's dimensions: the marker's own embedding dimension, and the flag read by the output matrix. */
function flagDims(spec: { marker: string; boost: string }, n: number, embd: Float32Array, out: Float32Array, idOf: (ch: string) => number): { marker: number; flag: number } {
  if (spec.marker.length !== 1 || idOf(spec.marker) > 0x7e) throw new Error("tiny-gguf: the flag's marker is one ASCII character");
  const dims = { marker: n - 2, flag: n - 1 };
  embd[idOf(spec.marker) * n + dims.marker] = 1;
  for (const ch of spec.boost) out[idOf(ch) * n + dims.flag] = FLAG_BONUS;
  return dims;
}

/**
 * Head 0 of the first block (and its key/value head, shared with head 1) becomes the marker detector. Weights are
 * `[out * n + in]`. NEOX RoPE pairs dimension i with i + headDim/2 and turns pair headDim/2 - 1 slowest
 * (1e6^(-14/16) rad per position: 0.02 rad over 4096 tokens), so the query and key live there.
 */
function flagHead(
  attn: { q: Float32Array; qb: Float32Array; k: Float32Array; kb: Float32Array; v: Float32Array; vb: Float32Array; o: Float32Array },
  n: number,
  headDim: number,
  dims: { marker: number; flag: number },
): void {
  const slow = headDim / 2 - 1;
  attn.q.fill(0, 0, 2 * headDim * n);
  attn.qb.fill(0, 0, 2 * headDim);
  attn.k.fill(0, 0, headDim * n);
  attn.kb.fill(0, 0, headDim);
  attn.v.fill(0, 0, headDim * n);
  attn.vb.fill(0, 0, headDim);
  // The marker's token, RMS-normalised (two unit dimensions of n), has sqrt(n/2) in its marker dimension.
  const normed = Math.sqrt(n / 2);
  // Score at a marker: 4 · 6·normed / sqrt(headDim) ≈ 34 against 0 elsewhere: e^34 outweighs any context length.
  attn.qb[slow] = 4;
  attn.k[slow * n + dims.marker] = 6;
  attn.v[0 * n + dims.marker] = 1;
  // Head 0's first output dimension, ≈ normed after a marker, becomes a flag of ≈ 1.
  attn.o.fill(0, dims.flag * n, dims.flag * n + n);
  attn.o[dims.flag * n + 0] = 1 / normed;
}

export function writeTinyGguf(file: string, options: TinyGgufOptions = {}): void {
  writeFileSync(file, tinyGguf(options));
}
