/**
 * The room table of docs/architecture.md ("Rooms"), enforced: `npm run boundaries` fails on an import cycle and on
 * any arrow between rooms that the table does not allow. Change the table there and here together.
 *
 * Every import counts: `import type` (a type-only import still couples two rooms) and dynamic `import()` too.
 */

/**
 * What each room (a folder under src/) may import besides itself. An entry is a room ("core", every file in it) or
 * one file ("state/port.ts"): a room that may only reach another room's port names the port file, never the folder.
 * `ANYTHING` marks the room that wires implementations together.
 */
const ANYTHING = "*";
const PORTS_FOR_RUN = ["agents", "quality", "workspace", "transports", "state", "llm"].map((room) => `${room}/port.ts`);

const rooms = {
  core: [],
  config: ["core"],
  plan: ["core"],
  // The retry prompt an LLM rewrites, and the project summary kept in the state store: through their ports only.
  prompts: ["core", "llm/port.ts", "state/port.ts"],
  ui: ["core"],
  // The verdict's values live under config/schema/ apart from TypeBox; they belong in core/ (or llm/) once config/
  // is free to move them, and then this exception goes.
  llm: ["core", "config/schema/verdict-limits.ts"],
  // The ssh transport watches the host copy it syncs with orc's own inotify watcher (src/transports/ssh/host-watch.ts).
  transports: ["core", "watch/inotify-watcher.ts"],
  watch: ["core"],
  state: ["core"],
  workspace: ["core", "transports", "watch"],
  agents: ["core", "transports"],
  quality: ["core", "transports", "llm", "prompts"],
  // transports/ for notify; the StateStore port only, never the sqlite implementation; never config/.
  rules: ["core", "prompts", "transports", "state/port.ts"],
  run: ["core", "plan", "prompts", "rules", ...PORTS_FOR_RUN],
  cli: ANYTHING,
};

const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
/** The regular expression for a table entry: a whole folder, or exactly one file. */
const pathOf = (entry) => (entry.endsWith(".ts") ? `^src/${escape(entry)}$` : `^src/${escape(entry)}/`);

const roomRules = Object.entries(rooms)
  .filter(([, allowed]) => allowed !== ANYTHING)
  .map(([room, allowed]) => ({
    name: `room-${room}`,
    comment: `src/${room}/ may import only ${allowed.length === 0 ? "itself" : allowed.join(", ")} (docs/architecture.md, Rooms)`,
    severity: "error",
    from: { path: pathOf(room) },
    to: { path: "^src/", pathNot: [pathOf(room), ...allowed.map(pathOf)] },
  }));

/** @type {import("dependency-cruiser").IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      comment: "An import cycle: the modules in it can only be understood, tested and moved together.",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    {
      name: "room-unknown",
      comment: "Every folder under src/ is a room of the table above (and of docs/architecture.md): add the new one.",
      severity: "error",
      from: { path: "^src/", pathNot: Object.keys(rooms).map(pathOf) },
      to: {},
    },
    {
      name: "not-to-unresolvable",
      comment: "An import the checker cannot resolve is an arrow it cannot judge.",
      severity: "error",
      from: {},
      to: { couldNotResolve: true },
    },
    ...roomRules,
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsConfig: { fileName: "tsconfig.json" },
    // Keeps the imports TypeScript erases (`import type`, unused imports): they couple rooms all the same.
    tsPreCompilationDeps: true,
    moduleSystems: ["es6"],
  },
};
