/**
 * The agent kinds this build can run. config/ validates `agent.kind` against this list (it may not import agents/);
 * a test checks that src/agents/registry.ts registers exactly these.
 */
export const AGENT_KINDS = ["command", "claude-code", "codex", "qwen-code", "opencode", "aider"] as const;
export type AgentKind = (typeof AGENT_KINDS)[number];
