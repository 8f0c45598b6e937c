/**
 * The one registry of agent kinds. Built-ins register a loader, not a module: each plugin is imported on first use,
 * so commands that run no agent (`orc --version`, `orc validate`) load nothing heavy. A test checks that the kinds
 * registered here are exactly AGENT_KINDS (src/core/kinds.ts), the list config/ validates against.
 */
import type { AgentPlugin } from "./port.js";

export type AgentLoader = () => Promise<AgentPlugin>;

const loaders = new Map<string, AgentLoader>();

/** Adds an agent kind; registering a kind twice is a bug and throws. */
export function registerAgent(kind: string, loader: AgentLoader): void {
  if (loaders.has(kind)) throw new Error(`agent kind "${kind}" is already registered`);
  loaders.set(kind, loader);
}

/** Loads the plugin for `kind`; rejects for an unknown kind or a plugin that answers to another kind. */
export async function loadAgent(kind: string): Promise<AgentPlugin> {
  const loader = loaders.get(kind);
  if (loader === undefined) {
    throw new Error(`unknown agent kind "${kind}" (known: ${registeredAgentKinds().join(", ")})`);
  }
  const plugin = await loader();
  if (plugin.kind !== kind) throw new Error(`agent kind "${kind}" loaded a plugin of kind "${plugin.kind}"`);
  return plugin;
}

/** Registered kinds, in registration order. */
export function registeredAgentKinds(): string[] {
  return [...loaders.keys()];
}

registerAgent("command", async () => (await import("./command.js")).commandAgent);
registerAgent("claude-code", async () => (await import("./claude-code.js")).claudeCodeAgent);
registerAgent("opencode", async () => (await import("./opencode.js")).opencodeAgent);
registerAgent("codex", async () => (await import("./codex.js")).codexAgent);
registerAgent("qwen-code", async () => (await import("./qwen-code.js")).qwenCodeAgent);
registerAgent("aider", async () => (await import("./aider.js")).aiderAgent);
