import { err, ok, type Result } from "../core/result.js";
import { fetchJson, num, pick } from "./http-json.js";
import { HttpLlmProvider, PROBE_TIMEOUT_MS } from "./http-provider.js";
import { estimateTokens, type LlmFailure, type LlmInfo, type LlmProvider, type LlmReply, type LlmRequest, type LlmSettings } from "./port.js";

export const DEFAULT_OPENAI_URL = "http://127.0.0.1:8080/v1";

/**
 * Any server speaking OpenAI's /v1/chat/completions (llama-server, vLLM, LM Studio), asked for a JSON-schema
 * `response_format`. The API key is read from the environment variable named in `llm.api_key_env`, never stored.
 */
export class OpenAiCompatibleProvider extends HttpLlmProvider implements LlmProvider {
  readonly kind = "openai-compatible" as const;
  private readonly base: string;
  private readonly headers: Record<string, string>;

  constructor(
    private readonly settings: LlmSettings,
    env: Readonly<Record<string, string | undefined>>,
  ) {
    super();
    const url = (settings.url ?? DEFAULT_OPENAI_URL).replace(/\/+$/, "");
    this.base = url.endsWith("/v1") ? url : `${url}/v1`;
    const key = settings.apiKeyEnv === undefined ? undefined : env[settings.apiKeyEnv];
    this.headers = key === undefined || key === "" ? {} : { authorization: `Bearer ${key}` };
  }

  async load(signal: AbortSignal = new AbortController().signal): Promise<Result<LlmInfo, LlmFailure>> {
    const started = Date.now();
    const models = await fetchJson(`${this.base}/models`, { method: "GET", headers: this.headers }, { signal, timeoutMs: PROBE_TIMEOUT_MS });
    if (!models.ok) return models;
    const data = pick(models.value, "data");
    const ids = Array.isArray(data) ? data.map((m) => pick(m, "id")).filter((id): id is string => typeof id === "string") : [];
    const model = this.settings.model ?? ids[0];
    if (model === undefined) return err({ kind: "unavailable", message: `${this.base} serves no model` });
    return ok({ kind: "openai-compatible", model, backend: this.base, loadMs: Date.now() - started });
  }

  async complete(request: LlmRequest): Promise<Result<LlmReply, LlmFailure>> {
    const started = Date.now();
    const body = {
      ...(this.settings.model === undefined ? {} : { model: this.settings.model }),
      messages: [
        { role: "system", content: request.system },
        { role: "user", content: request.prompt },
      ],
      temperature: 0,
      max_tokens: request.maxTokens,
      response_format: { type: "json_schema", json_schema: { name: "verdict", strict: true, schema: request.schema } },
    };
    const reply = await fetchJson(`${this.base}/chat/completions`, { method: "POST", body, headers: this.headers }, request);
    if (!reply.ok) return reply;
    const choices = pick(reply.value, "choices");
    const text = Array.isArray(choices) ? pick(choices[0], "message", "content") : undefined;
    if (typeof text !== "string") return err({ kind: "failed", message: "the server's answer has no choices[0].message.content" });
    const promptTokens = num(pick(reply.value, "usage", "prompt_tokens")) ?? estimateTokens(request.system + request.prompt);
    const cached = num(pick(reply.value, "usage", "prompt_tokens_details", "cached_tokens")) ?? 0;
    return ok({
      text,
      promptTokens,
      evaluatedTokens: promptTokens - cached,
      outputTokens: num(pick(reply.value, "usage", "completion_tokens")) ?? estimateTokens(text),
      durationMs: Date.now() - started,
    });
  }
}
