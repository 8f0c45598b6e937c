import { estimateTokens, truncateEstimated } from "./port.js";

/** How long a server may take to list its models when the provider loads. */
export const PROBE_TIMEOUT_MS = 5_000;

/**
 * What the HTTP providers (Ollama, OpenAI-compatible servers) share: no tokenizer at hand, so counts and cuts go by
 * the estimate in port.ts, no known context, and nothing of orc's to release when the judge is done.
 */
export abstract class HttpLlmProvider {
  countTokens(text: string): Promise<number> {
    return Promise.resolve(estimateTokens(text));
  }

  truncate(text: string, maxTokens: number): Promise<string> {
    return Promise.resolve(truncateEstimated(text, maxTokens));
  }

  /** Unknown: the server holds the model; `context_size` is not its setting. */
  contextTokens(): Promise<number | undefined> {
    return Promise.resolve(undefined);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
