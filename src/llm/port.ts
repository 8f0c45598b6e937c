/**
 * The LLM port: a local model that answers one JSON document under a JSON Schema. Providers (chosen by `kind` in
 * orchestrator.yaml `llm:`) are the embedded node-llama-cpp one, Ollama and any OpenAI-compatible server. Failures are
 * values: the judge maps each to its fail-closed handling and never to a pass.
 */
import type { Result } from "../core/result.js";

export type LlmKind = LlmSettings["kind"];

import type { LlmSettings } from "../core/pipeline.js";

export type { LlmSettings };

export interface LlmRequest {
  /** The stable part (instructions, task, project summary): a provider may keep it evaluated between requests. */
  readonly system: string;
  readonly prompt: string;
  /** JSON Schema of the answer; the answer is decoded under it where the backend can (grammar / structured output). */
  readonly schema: Readonly<Record<string, unknown>>;
  readonly maxTokens: number;
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
  /** Requests with the same session (a task) share a context sequence, so their common prefix is evaluated once. */
  readonly session?: string;
}

export interface LlmReply {
  readonly text: string;
  /** Tokens of the whole prompt. */
  readonly promptTokens: number;
  /** Prompt tokens actually evaluated (the rest came from the reused prefix); equals promptTokens where unknown. */
  readonly evaluatedTokens: number;
  readonly outputTokens: number;
  readonly durationMs: number;
}

export type LlmFailure =
  /** The model or server cannot be used at all (missing file, refused connection, offline download). */
  | { readonly kind: "unavailable"; readonly message: string }
  | { readonly kind: "timeout"; readonly message: string }
  | { readonly kind: "aborted"; readonly message: string }
  /** It answered, but not usefully (HTTP error, empty answer). */
  | { readonly kind: "failed"; readonly message: string };

export interface LlmInfo {
  readonly kind: LlmKind;
  readonly model: string;
  /** "cpu", "cuda", "vulkan", "metal", or the server URL. */
  readonly backend: string;
  readonly loadMs: number;
  readonly vramBytes?: number;
  readonly gpuLayers?: number;
}

export interface LlmProvider {
  readonly kind: LlmKind;
  /** Loads the model / checks the server (once; later calls return the same answer). */
  load(signal?: AbortSignal): Promise<Result<LlmInfo, LlmFailure>>;
  complete(request: LlmRequest): Promise<Result<LlmReply, LlmFailure>>;
  /** Token count by the model's own tokenizer where the provider has it, else an estimate. */
  countTokens(text: string): Promise<number>;
  /** The longest prefix of `text` within `maxTokens` tokens. */
  truncate(text: string, maxTokens: number): Promise<string>;
  /** Tokens the model's context holds, prompt and answer together, where the provider knows it. */
  contextTokens(): Promise<number | undefined>;
  close(): Promise<void>;
}

/** ChatML roles and markers around a request's two parts (`<|im_start|>system\n` …), counted generously. */
export const CHAT_MARKUP_TOKENS = 40;

/**
 * Tokens a prompt may take when its answer may take `answerTokens`: `max_prompt_tokens`, less where the model's context
 * cannot hold both (a 4096-token context with the default 6000-token budget). A prompt over it is refused by the model
 * (llama-cpp) or cut at its start (Ollama), so the evidence is cut to fit here instead, where the cut is said.
 */
export async function promptBudget(provider: LlmProvider, settings: LlmSettings, answerTokens: number): Promise<number> {
  const context = await provider.contextTokens();
  return context === undefined ? settings.maxPromptTokens : Math.max(0, Math.min(settings.maxPromptTokens, context - answerTokens));
}

/** Combines the caller's signal with the request timeout and says which one fired. */
export function requestSignal(signal: AbortSignal, timeoutMs: number): { readonly signal: AbortSignal; readonly timedOut: () => boolean; readonly dispose: () => void } {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new Error(`timed out after ${String(timeoutMs)}ms`));
  }, timeoutMs);
  const onAbort = (): void => {
    controller.abort(signal.reason);
  };
  if (signal.aborted) onAbort();
  else signal.addEventListener("abort", onAbort, { once: true });
  return {
    signal: controller.signal,
    timedOut: () => timedOut,
    dispose: () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
    },
  };
}

/** Characters per token for providers without a tokenizer at hand: conservative for code and English. */
export const CHARS_PER_TOKEN_ESTIMATE = 3;

export function estimateTokens(text: string): number {
  return Math.ceil(text.length / CHARS_PER_TOKEN_ESTIMATE);
}

/** Cuts `text` to at most `maxTokens` by the same estimate (for providers without a tokenizer). */
export function truncateEstimated(text: string, maxTokens: number): string {
  return estimateTokens(text) <= maxTokens ? text : text.slice(0, Math.max(0, maxTokens) * CHARS_PER_TOKEN_ESTIMATE);
}
