/**
 * The agent kinds this build can run. config/ validates `agent.kind` against this list (it may not import agents/);
 * a test checks that src/agents/registry.ts registers exactly these.
 */
export const AGENT_KINDS = ["command", "claude-code", "codex", "qwen-code", "opencode", "aider"] as const;
export type AgentKind = (typeof AGENT_KINDS)[number];

/** Where agents and gates run (`transport:`). */
export const TRANSPORT_KINDS = ["local", "sandbox", "docker", "ssh"] as const;
export type TransportKind = (typeof TRANSPORT_KINDS)[number];
/** The kinds this build can run. */
export const AVAILABLE_TRANSPORT_KINDS = ["local", "sandbox", "docker", "ssh"] as const;
