import { Type, type Static } from "@sinclair/typebox";
import { TRANSPORT_KINDS } from "../../core/kinds.js";
import { Strict, StringEnum } from "./fragments.js";
import { SshTransportFields } from "./transport-ssh.js";

const Kind = StringEnum(TRANSPORT_KINDS, {
  title: "Transport kind",
  description:
    "`local`: on this machine, as you. `sandbox`: in a bubblewrap sandbox (Linux) that sees the host read-only but the workspace, hides your home and orc's state. `docker`: in a container per run from a local image (Docker engine). `ssh`: on another machine over SSH, in a copy of the workspace whose changes come back.",
});

const TransportObject = Strict(
  {
    kind: Kind,
    network: Type.Optional(
      Type.Union([Type.Literal("on"), Type.Literal("off"), Type.Literal("host"), Type.Boolean()], {
        title: "Network",
        description:
          "sandbox: `on` (default; coding agents need their model's API) shares the host's network; `off` gives the sandbox none at all, loopback included. docker: `off` (default) no network; `on` the engine's default network; `host` the host's own network, its loopback services included (a risk: use only for a model server on loopback).",
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
    image: Type.Optional(Type.String({ title: "Image", description: "docker (required): the image each run's container starts from, e.g. orc-agent:latest; it must exist locally (orc pulls nothing).", minLength: 1 })),
    memory: Type.Optional(
      Type.Union([Type.String({ minLength: 1 }), Type.Integer({ minimum: 1 })], {
        title: "Memory limit",
        description: "docker: the container's memory limit, e.g. 2g (default), 512m, or bytes.",
      }),
    ),
    cpus: Type.Optional(Type.Number({ title: "CPU limit", description: "docker: CPUs the container may use, fractions allowed (default 2).", exclusiveMinimum: 0 })),
    pids: Type.Optional(Type.Integer({ title: "Process limit", description: "docker: processes the container may hold at once (default 512).", minimum: 1 })),
    socket: Type.Optional(Type.String({ title: "Engine socket", description: "docker: the engine's unix socket; default DOCKER_HOST (unix://…) or /var/run/docker.sock.", minLength: 1 })),
    ...SshTransportFields,
  },
  { title: "Transport settings", description: "Where agents and gates run, with the kind's settings." },
);

export const Transport = Type.Union([Kind, TransportObject], {
  title: "Transport",
  description: "Where agents and their gates run: `local`, `sandbox` or `docker`, or an object with the kind's settings; none anywhere: `sandbox` where bubblewrap works, else `local`. A pipeline's replaces orchestrator.yaml's.",
});

export type RawTransport = Static<typeof Transport>;
