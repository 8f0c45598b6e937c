/**
 * What each coding-agent CLI needs from the user's home and environment to run inside a sandbox that orc chose by
 * default (no `transport:` anywhere): its config and login, its API key and endpoint variables, passed by name. A
 * `transport:` the user writes says for itself what passes; this is only the default's. The `command` agent needs
 * nothing: a script of the user's, which gets `agent.env` like every agent.
 */
export interface SandboxNeeds {
  /** Paths relative to the home, bound read-only where they exist. */
  readonly home: readonly string[];
  /** Environment variable names passed in where they are set. */
  readonly env: readonly string[];
}

const NEEDS: Readonly<Record<string, SandboxNeeds>> = {
  "claude-code": {
    // Its login and settings, not `.claude/` whole: Claude Code writes its sessions there (projects/, todos/), and a
    // read-only `.claude/` would make every `--resume` of a later attempt fail. The rest of `.claude/` is the per-run
    // home's own, kept for the run.
    home: [".claude/.credentials.json", ".claude/settings.json", ".claude/CLAUDE.md", ".claude.json"],
    env: [
      "ANTHROPIC_API_KEY",
      "ANTHROPIC_AUTH_TOKEN",
      "ANTHROPIC_BASE_URL",
      "ANTHROPIC_MODEL",
      "CLAUDE_CODE_OAUTH_TOKEN",
      "CLAUDE_CODE_USE_BEDROCK",
      "CLAUDE_CODE_USE_VERTEX",
      "CLAUDE_CODE_MAX_RETRIES",
      "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC",
      "DISABLE_TELEMETRY",
      "DISABLE_AUTOUPDATER",
    ],
  },
  codex: { home: [".codex"], env: ["OPENAI_API_KEY", "OPENAI_BASE_URL", "CODEX_HOME"] },
  opencode: {
    home: [".config/opencode", ".local/share/opencode"],
    env: ["ANTHROPIC_API_KEY", "OPENAI_API_KEY", "OPENROUTER_API_KEY", "GEMINI_API_KEY", "OPENCODE_CONFIG", "OPENCODE_CONFIG_CONTENT", "XDG_CONFIG_HOME", "XDG_DATA_HOME"],
  },
  aider: { home: [".aider.conf.yml", ".aider.model.settings.yml", ".aider.model.metadata.json"], env: ["OPENAI_API_KEY", "OPENAI_API_BASE", "ANTHROPIC_API_KEY", "OPENROUTER_API_KEY", "GEMINI_API_KEY", "DEEPSEEK_API_KEY"] },
  "qwen-code": { home: [".qwen"], env: ["OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_MODEL", "DASHSCOPE_API_KEY"] },
};

/** Every CLI that talks to a model through a proxy or a private CA needs these as the host has them. */
const NETWORK_ENV = ["HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "https_proxy", "http_proxy", "no_proxy", "NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE"];

/** The union of what the agent kinds need, each name once, in a stable order. */
export function sandboxNeeds(kinds: Iterable<string>): SandboxNeeds {
  const home = new Set<string>();
  const env = new Set<string>(NETWORK_ENV);
  for (const kind of kinds) {
    for (const path of NEEDS[kind]?.home ?? []) home.add(path);
    for (const name of NEEDS[kind]?.env ?? []) env.add(name);
  }
  return { home: [...home].sort(), env: [...env].sort() };
}
