import { existsSync } from "node:fs";
import type { Llama, LlamaCompletion, LlamaContext, LlamaContextSequence, LlamaGrammar, LlamaModel } from "node-llama-cpp";
import { err, ok, type Result } from "../core/result.js";
import { chatTokens, grammarSchema } from "./chatml.js";
import { requestSignal, type LlmFailure, type LlmInfo, type LlmProvider, type LlmReply, type LlmRequest, type LlmSettings } from "./port.js";

/** Sequences per context: tasks running side by side each keep their own prefix. */
const SEQUENCES = 2;

/**
 * Context positions a request never uses: node-llama-cpp may put a beginning-of-text token before the prompt, and it
 * shifts the context (dropping the prompt's start: orc's instructions, the task) once generation reaches the last
 * position. Prompt and answer stay below both, so nothing is ever dropped; one more to spare.
 */
const RESERVED_POSITIONS = 3;

interface Loaded {
  readonly llama: Llama;
  readonly model: LlamaModel;
  readonly context: LlamaContext;
  readonly info: LlmInfo;
}

interface Slot {
  readonly sequence: LlamaContextSequence;
  readonly completion: LlamaCompletion;
  session: string | undefined;
  usedAt: number;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The embedded provider: node-llama-cpp in this process. The model is loaded once, lazily, on first use; requests are
 * queued (one decode at a time); a task keeps a context sequence, so the next verdict of the same task re-evaluates
 * only what changed after the shared prefix.
 */
export class LlamaCppProvider implements LlmProvider {
  readonly kind = "llama-cpp" as const;
  private loading: Promise<Result<Loaded, LlmFailure>> | undefined;
  private readonly slots: Slot[] = [];
  private readonly grammars = new Map<string, Promise<LlamaGrammar>>();
  private queue: Promise<unknown> = Promise.resolve();
  private clock = 0;

  constructor(private readonly settings: LlmSettings) {}

  async load(): Promise<Result<LlmInfo, LlmFailure>> {
    const loaded = await this.loaded();
    return loaded.ok ? ok(loaded.value.info) : loaded;
  }

  private loaded(): Promise<Result<Loaded, LlmFailure>> {
    this.loading ??= this.doLoad();
    return this.loading;
  }

  private async doLoad(): Promise<Result<Loaded, LlmFailure>> {
    const spec = this.settings.model;
    if (spec === undefined || spec === "") {
      return err({ kind: "unavailable", message: "no model configured (set llm.model in orchestrator.yaml to a GGUF path or an hf: URI)" });
    }
    const started = Date.now();
    let lib: typeof import("node-llama-cpp");
    try {
      lib = await import("node-llama-cpp");
    } catch (error) {
      return err({ kind: "unavailable", message: `node-llama-cpp cannot be loaded: ${message(error)}` });
    }
    let modelPath = spec;
    if (spec.startsWith("hf:")) {
      try {
        // Downloads on first use (progress on a terminal); offline, this fails with the URI in the message.
        modelPath = await lib.resolveModelFile(spec, {
          ...(this.settings.modelsDir === undefined ? {} : { directory: this.settings.modelsDir }),
          cli: process.stderr.isTTY,
          verify: false,
        });
      } catch (error) {
        return err({ kind: "unavailable", message: `model ${spec} could not be downloaded (offline?): ${message(error)}` });
      }
    } else if (!existsSync(spec)) {
      return err({ kind: "unavailable", message: `model file ${spec} does not exist` });
    }
    try {
      const llama = await lib.getLlama({
        gpu: this.settings.gpu,
        // orc never compiles llama.cpp in the middle of a run: a missing prebuilt binary is an error to report.
        build: "never",
        skipDownload: true,
        logLevel: lib.LlamaLogLevel.error,
        progressLogs: false,
        ...(this.settings.threads === undefined ? {} : { maxThreads: this.settings.threads }),
      });
      const model = await llama.loadModel({ modelPath, gpuLayers: this.settings.gpuLayers });
      const context = await model.createContext({
        contextSize: Math.min(this.settings.contextSize, model.trainContextSize),
        sequences: SEQUENCES,
        ...(this.settings.threads === undefined ? {} : { threads: this.settings.threads }),
      });
      for (let i = 0; i < SEQUENCES; i++) {
        const sequence = context.getSequence();
        this.slots.push({ sequence, completion: new lib.LlamaCompletion({ contextSequence: sequence }), session: undefined, usedAt: 0 });
      }
      const vram = llama.gpu === false ? undefined : (await llama.getVramState()).used;
      const info: LlmInfo = {
        kind: "llama-cpp",
        model: spec,
        backend: llama.gpu === false ? "cpu" : llama.gpu,
        loadMs: Date.now() - started,
        gpuLayers: model.gpuLayers,
        ...(vram === undefined ? {} : { vramBytes: vram }),
      };
      return ok({ llama, model, context, info });
    } catch (error) {
      return err({ kind: "unavailable", message: `model ${spec} could not be loaded: ${message(error)}` });
    }
  }

  complete(request: LlmRequest): Promise<Result<LlmReply, LlmFailure>> {
    // One decode at a time: a queue, not a lock, so a waiting request still honours its own timeout and signal.
    const run = this.queue.then(() => this.completeNow(request));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async completeNow(request: LlmRequest): Promise<Result<LlmReply, LlmFailure>> {
    const loaded = await this.loaded();
    if (!loaded.ok) return loaded;
    const { llama, model, context } = loaded.value;
    const started = Date.now();
    const tokens = chatTokens(model, request.system, request.prompt);
    if (request.maxTokens < 1 || tokens.length + request.maxTokens > context.contextSize - RESERVED_POSITIONS) {
      return err({ kind: "failed", message: `prompt of ${String(tokens.length)} tokens and an answer of ${String(request.maxTokens)} do not fit the ${String(context.contextSize)}-token context` });
    }
    const key = JSON.stringify(request.schema);
    let grammar = this.grammars.get(key);
    if (grammar === undefined) {
      grammar = llama.createGrammarForJsonSchema(grammarSchema(request.schema) as Parameters<Llama["createGrammarForJsonSchema"]>[0]);
      this.grammars.set(key, grammar);
    }
    const slot = this.slotFor(request.session);
    const meter = slot.sequence.tokenMeter;
    const inputBefore = meter.usedInputTokens;
    const outputBefore = meter.usedOutputTokens;
    const limit = requestSignal(request.signal, request.timeoutMs);
    try {
      // Left to itself, node-llama-cpp cuts the prompt's start to keep a tenth of the context free for shifting: a
      // prompt that fits (checked above) is evaluated whole, and the answer ends at maxTokens before any shift.
      const text = await slot.completion.generateCompletion(tokens, {
        grammar: await grammar,
        maxTokens: request.maxTokens,
        signal: limit.signal,
        contextShiftSize: 1,
        disableContextShift: true,
      });
      return ok({
        text,
        promptTokens: tokens.length,
        evaluatedTokens: meter.usedInputTokens - inputBefore,
        outputTokens: meter.usedOutputTokens - outputBefore,
        durationMs: Date.now() - started,
      });
    } catch (error) {
      if (limit.timedOut()) return err({ kind: "timeout", message: `no answer within ${String(request.timeoutMs)}ms` });
      if (request.signal.aborted) return err({ kind: "aborted", message: "cancelled" });
      return err({ kind: "failed", message: message(error) });
    } finally {
      limit.dispose();
    }
  }

  /** The session's own sequence, else the least recently used one (its prefix is lost). */
  private slotFor(session: string | undefined): Slot {
    const key = session ?? "";
    let slot = this.slots.find((s) => s.session === key);
    if (slot === undefined) {
      slot = this.slots.reduce((a, b) => (b.usedAt < a.usedAt ? b : a));
      slot.session = key;
    }
    slot.usedAt = ++this.clock;
    return slot;
  }

  async countTokens(text: string): Promise<number> {
    const loaded = await this.loaded();
    return loaded.ok ? loaded.value.model.tokenize(text, false).length : Math.ceil(text.length / 3);
  }

  async truncate(text: string, maxTokens: number): Promise<string> {
    const loaded = await this.loaded();
    if (!loaded.ok) return text.slice(0, Math.max(0, maxTokens) * 3);
    const tokens = loaded.value.model.tokenize(text, false);
    return tokens.length <= maxTokens ? text : loaded.value.model.detokenize(tokens.slice(0, Math.max(0, maxTokens)));
  }

  /** The context as created (`context_size`, or less where the model was trained on less), less the reserved positions. */
  async contextTokens(): Promise<number | undefined> {
    const loaded = await this.loaded();
    return loaded.ok ? loaded.value.context.contextSize - RESERVED_POSITIONS : undefined;
  }

  async close(): Promise<void> {
    const loaded = this.loading === undefined ? undefined : await this.loading;
    if (loaded?.ok === true) await loaded.value.llama.dispose();
  }
}
