import { llmSettingsOf } from "../judge-wiring.js";
import type { DoctorCheck } from "./check.js";

const PROBE_SCHEMA = {
  type: "object",
  properties: { ready: { type: "boolean" }, words: { type: "array", items: { type: "string" }, maxItems: 8 } },
  required: ["ready", "words"],
};

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
}

/**
 * Loads the configured LLM as a run would and generates one short constrained answer: backend, VRAM, load time and
 * tokens/s. Without a model configured, judge gates can only ask a human: a warning, not a failure.
 */
export const llmLoads: DoctorCheck = {
  name: "llm",
  run: async (ctx) => {
    const settings = llmSettingsOf(ctx.settings);
    if (settings.kind === "llama-cpp" && settings.model === undefined) {
      return { status: "warn", detail: "no model configured (llm.model in orchestrator.yaml): judge gates will ask a human", data: { kind: settings.kind } };
    }
    const { createProvider } = await import("../../llm/create.js");
    const provider = await createProvider(settings, ctx.env);
    try {
      const loaded = await provider.load();
      if (!loaded.ok) return { status: "fail", detail: `${settings.kind}: ${loaded.failure.message}`, data: { kind: settings.kind } };
      const info = loaded.value;
      const reply = await provider.complete({
        system: "You are a health check.",
        prompt: "Answer ready=true and list a few words.",
        schema: PROBE_SCHEMA,
        maxTokens: 64,
        timeoutMs: settings.timeoutMs,
        signal: new AbortController().signal,
      });
      if (!reply.ok) return { status: "fail", detail: `${info.model} loaded but did not answer: ${reply.failure.message}`, data: { ...info } };
      const seconds = Math.max(reply.value.durationMs, 1) / 1000;
      const tokensPerSecond = Math.round(reply.value.outputTokens / seconds);
      const vram = info.vramBytes === undefined ? "" : `, VRAM ${mib(info.vramBytes)}`;
      return {
        status: "ok",
        detail: `${info.kind} ${info.model}: backend ${info.backend}${vram}, loaded in ${String(info.loadMs)}ms, ${String(tokensPerSecond)} tokens/s`,
        data: { ...info, tokensPerSecond, answerMs: reply.value.durationMs, outputTokens: reply.value.outputTokens },
      };
    } finally {
      await provider.close();
    }
  },
};
