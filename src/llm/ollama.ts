import { err, ok, type Result } from "../core/result.js";
import { fetchJson, num, pick } from "./http-json.js";
import { HttpLlmProvider, PROBE_TIMEOUT_MS } from "./http-provider.js";
import { estimateTokens, type LlmFailure, type LlmInfo, type LlmProvider, type LlmReply, type LlmRequest, type LlmSettings } from "./port.js";

export const DEFAULT_OLLAMA_URL = "http://127.0.0.1:11434";

/** Ollama's HTTP API: /api/chat with the JSON Schema as `format` (Ollama decodes under it). */
export class OllamaProvider extends HttpLlmProvider implements LlmProvider {
  readonly kind = "ollama" as const;
  private readonly base: string;

  constructor(private readonly settings: LlmSettings) {
    super();
    this.base = (settings.url ?? DEFAULT_OLLAMA_URL).replace(/\/+$/, "");
  }

  async load(signal: AbortSignal = new AbortController().signal): Promise<Result<LlmInfo, LlmFailure>> {
    const started = Date.now();
    const model = this.settings.model;
    if (model === undefined) return err({ kind: "unavailable", message: "no model configured (set llm.model to an Ollama model name)" });
    const tags = await fetchJson(`${this.base}/api/tags`, { method: "GET" }, { signal, timeoutMs: PROBE_TIMEOUT_MS });
    if (!tags.ok) return tags;
    const models = pick(tags.value, "models");
    const names = Array.isArray(models) ? models.map((m) => pick(m, "name")) : [];
    if (!names.includes(model) && !names.includes(`${model}:latest`)) {
      return err({ kind: "unavailable", message: `Ollama at ${this.base} has no model ${model} (ollama pull ${model})` });
    }
    return ok({ kind: "ollama", model, backend: this.base, loadMs: Date.now() - started });
  }

  /** Ollama is asked for a `num_ctx` of `context_size` with every request. */
  override contextTokens(): Promise<number | undefined> {
    return Promise.resolve(this.settings.contextSize);
  }

  async complete(request: LlmRequest): Promise<Result<LlmReply, LlmFailure>> {
    const started = Date.now();
    const body = {
      model: this.settings.model,
      messages: [
        { role: "system", content: request.system },
        { role: "user", content: request.prompt },
      ],
      format: request.schema,
      stream: false,
      options: { temperature: 0, num_predict: request.maxTokens, num_ctx: this.settings.contextSize },
    };
    const reply = await fetchJson(`${this.base}/api/chat`, { method: "POST", body }, request);
    if (!reply.ok) return reply;
    const text = pick(reply.value, "message", "content");
    if (typeof text !== "string") return err({ kind: "failed", message: "Ollama's answer has no message.content" });
    const promptTokens = num(pick(reply.value, "prompt_eval_count")) ?? estimateTokens(request.system + request.prompt);
    return ok({
      text,
      promptTokens,
      // Ollama reports only the tokens it evaluated (its own prefix cache shortens them).
      evaluatedTokens: promptTokens,
      outputTokens: num(pick(reply.value, "eval_count")) ?? estimateTokens(text),
      durationMs: Date.now() - started,
    });
  }
}
