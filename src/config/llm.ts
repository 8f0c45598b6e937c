import { resolve } from "node:path";
import type { LlmSettings } from "../core/pipeline.js";
import { durationMs } from "./duration-field.js";
import type { RawOrchestrator } from "./schema/orchestrator.js";
import type { Scope } from "./scope.js";

export const DEFAULT_LLM_TIMEOUT_MS = 2 * 60_000;

/** The LLM settings with nothing configured: the embedded provider, no model (judge gates then need a human). */
export function defaultLlm(): LlmSettings {
  return {
    kind: "llama-cpp",
    gpu: "auto",
    contextSize: 8_192,
    gpuLayers: "auto",
    timeoutMs: DEFAULT_LLM_TIMEOUT_MS,
    maxPromptTokens: 6_000,
    maxOutputTokens: 768,
    optimizePrompts: false,
  };
}

/** Normalises orchestrator.yaml `llm:`; paths are relative to the file (`root`), an `hf:` URI is kept as written. */
export function readLlm(raw: RawOrchestrator["llm"], root: string, scope: Scope): LlmSettings {
  const base = defaultLlm();
  if (raw === undefined) return base;
  const kind = raw.kind ?? base.kind;
  const model = raw.model === undefined || kind !== "llama-cpp" || raw.model.startsWith("hf:") ? raw.model : resolve(root, raw.model);
  const timeoutMs = durationMs(raw.timeout, ["llm", "timeout"], scope);
  return {
    ...base,
    kind,
    ...(model === undefined ? {} : { model }),
    ...(raw.url === undefined ? {} : { url: raw.url }),
    ...(raw.api_key_env === undefined ? {} : { apiKeyEnv: raw.api_key_env }),
    gpu: raw.gpu === undefined ? base.gpu : raw.gpu === "cpu" ? false : raw.gpu,
    ...(raw.threads === undefined ? {} : { threads: raw.threads }),
    contextSize: raw.context_size ?? base.contextSize,
    gpuLayers: raw.gpu_layers ?? base.gpuLayers,
    timeoutMs: timeoutMs ?? base.timeoutMs,
    maxPromptTokens: raw.max_prompt_tokens ?? base.maxPromptTokens,
    maxOutputTokens: raw.max_output_tokens ?? base.maxOutputTokens,
    optimizePrompts: raw.optimize_prompts ?? base.optimizePrompts,
    ...(raw.models_dir === undefined ? {} : { modelsDir: resolve(root, raw.models_dir) }),
  };
}
