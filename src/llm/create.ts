import type { LlmProvider, LlmSettings } from "./port.js";

/** The provider for `llm.kind`, its module imported only now (node-llama-cpp is heavy; most commands never need it). */
export async function createProvider(settings: LlmSettings, env: Readonly<Record<string, string | undefined>>): Promise<LlmProvider> {
  switch (settings.kind) {
    case "llama-cpp": {
      const { LlamaCppProvider } = await import("./llama-cpp.js");
      return new LlamaCppProvider(settings);
    }
    case "ollama": {
      const { OllamaProvider } = await import("./ollama.js");
      return new OllamaProvider(settings);
    }
    case "openai-compatible": {
      const { OpenAiCompatibleProvider } = await import("./openai-compatible.js");
      return new OpenAiCompatibleProvider(settings, env);
    }
  }
}
