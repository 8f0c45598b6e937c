import { Type, type Static } from "@sinclair/typebox";
import { TRANSPORT_KINDS } from "../../core/kinds.js";
import { Strict, StringEnum } from "./fragments.js";
import { SshTransportFields } from "./transport-ssh.js";

const Kind = StringEnum(TRANSPORT_KINDS, {
  title: "Transport kind",
  description:
    "`local`: on this machine, as you. `sandbox`: in a bubblewrap sandbox (Linux) that sees the host read-only but the workspace, hides your home and orc's state. `ssh`: on another machine over SSH, in a copy of the workspace whose changes come back. `docker` is not available yet.",
});

const TransportObject = Strict(
  {
    kind: Kind,
    network: Type.Optional(
      Type.Union([Type.Literal("on"), Type.Literal("off"), Type.Boolean()], {
        title: "Network",
        description: "sandbox: `on` (default; coding agents need their model's API) shares the host's network; `off` gives the sandbox none at all, loopback included.",
      }),
    ),
    home: Type.Optional(
      Type.Array(Type.String({ description: "A path relative to your home, e.g. .claude.json or .config/opencode", minLength: 1 }), {
        title: "Home paths",
        description:
          "sandbox: files and directories of your home the agent needs (its own config and credentials), bound read-only into the sandbox's home, an empty directory of orc's kept per run. Nothing else of your home is visible.",
      }),
    ),
    env: Type.Optional(
      Type.Array(Type.String({ description: "An environment variable name, e.g. ANTHROPIC_API_KEY", pattern: "^[A-Za-z_][A-Za-z0-9_]*$" }), {
        title: "Environment",
        description: "sandbox, ssh: names of your environment variables passed in, besides PATH, LANG, LC_*, TERM, TZ, USER, LOGNAME, SHELL and CI; `agent.env` always is.",
      }),
    ),
    ...SshTransportFields,
  },
  { title: "Transport settings", description: "Where agents and gates run, with the kind's settings." },
);

export const Transport = Type.Union([Kind, TransportObject], {
  title: "Transport",
  description: "Where agents and their gates run: `local` (default) or `sandbox`, or an object with the kind's settings. A pipeline's replaces orchestrator.yaml's.",
});

export type RawTransport = Static<typeof Transport>;
