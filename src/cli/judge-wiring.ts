import { join } from "node:path";
import { defaultLlm } from "../config/llm.js";
import type { JudgeVerdict } from "../core/events.js";
import type { LlmSettings, Settings } from "../core/pipeline.js";
import type { LlmProvider } from "../llm/port.js";
import type { ProjectSummary } from "../prompts/summary.js";
import type { JudgeDeps, VerdictCache } from "../quality/judge-gate.js";
import type { Gate } from "../quality/port.js";
import type { LlmMemory } from "../state/port.js";
import type { RunDeps } from "../run/deps.js";

/** The LLM settings a run uses: orchestrator.yaml's, with models downloaded under the state directory by default. */
export function llmSettingsOf(settings: Settings): LlmSettings {
  const llm = settings.llm ?? defaultLlm();
  return llm.modelsDir === undefined ? { ...llm, modelsDir: join(settings.stateDir, "models") } : llm;
}

/** Verdicts stored in state.db; a row that does not parse is treated as absent (the judge then asks a human). */
function storeCache(memory: LlmMemory): VerdictCache {
  return {
    get: (hash) => {
      const text = memory.verdict(hash);
      if (text === undefined) return undefined;
      try {
        return JSON.parse(text) as JudgeVerdict;
      } catch {
        return undefined;
      }
    },
    put: (hash, verdict) => {
      memory.saveVerdict(hash, JSON.stringify(verdict));
    },
  };
}

/**
 * Judge gates for one run. Nothing LLM-related is imported until the first judge gate runs, and the model is loaded
 * once for the whole run (the provider loads lazily and keeps it).
 */
export function judgeGates(options: {
  readonly settings: Settings;
  readonly memory: LlmMemory | undefined;
  readonly summary: ProjectSummary;
  readonly env: Readonly<Record<string, string | undefined>>;
}): {
  /** The `judge` gate kind, for the run's gate registry. */
  readonly load: () => Promise<Gate<"judge">>;
  readonly rewrite: RunDeps["rewritePrompt"];
  readonly close: () => Promise<void>;
} {
  let ready: Promise<{ deps: JudgeDeps; runJudgeGate: typeof import("../quality/judge-gate.js").runJudgeGate }> | undefined;
  let provider: LlmProvider | undefined;
  const prepare = async (): Promise<{ deps: JudgeDeps; runJudgeGate: typeof import("../quality/judge-gate.js").runJudgeGate }> => {
    const [{ createProvider }, { runJudgeGate, MemoryVerdictCache }, { shippedTemplate }] = await Promise.all([
      import("../llm/create.js"),
      import("../quality/judge-gate.js"),
      import("../config/templates.js"),
    ]);
    const llm = llmSettingsOf(options.settings);
    provider = await createProvider(llm, options.env);
    const deps: JudgeDeps = {
      provider,
      settings: llm,
      cache: options.memory === undefined ? new MemoryVerdictCache() : storeCache(options.memory),
      defaultRubric: shippedTemplate("judge.liquid"),
      summary: () => options.summary.text(),
    };
    return { deps, runJudgeGate };
  };
  return {
    load: async () => {
      ready ??= prepare();
      const { deps, runJudgeGate } = await ready;
      return { run: (spec, ctx) => runJudgeGate(spec, ctx, deps) };
    },
    rewrite: llmSettingsOf(options.settings).optimizePrompts
      ? async (prompt, ctx) => {
          ready ??= prepare();
          const [{ deps }, { rewritePrompt }] = await Promise.all([ready, import("../prompts/rewrite.js")]);
          return rewritePrompt(deps.provider, deps.settings, prompt, ctx);
        }
      : undefined,
    close: async () => {
      await provider?.close();
    },
  };
}
