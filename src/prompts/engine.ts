import { createRequire } from "node:module";
import type * as LiquidJs from "liquidjs";
import type { TemplateSource } from "../core/pipeline.js";

/**
 * One Liquid engine for every prompt, made on the first template that needs it: most task prompts are plain text, so
 * a run of them never loads liquidjs at all. Strict variables and filters: a typo in a template is an error the user
 * sees, never an empty string silently sent to an agent. Templates arrive as source text (read by config/), so
 * rendering touches no file: `{% include %}` and `{% render %}` are refused by the empty in-memory file system below.
 */
let engine: LiquidJs.Liquid | undefined;

function liquid(): LiquidJs.Liquid {
  if (engine !== undefined) return engine;
  // liquidjs is one 180 KB CommonJS file: `require` loads it ~45 ms sooner than `import`, whose export scan reads it all.
  const { Liquid } = createRequire(import.meta.url)("liquidjs") as typeof LiquidJs;
  engine = new Liquid({
    // Named, so that constructing the engine does not ask Intl for the machine's locale (~30 ms of ICU loading) and
    // so that a `date` filter renders the same on every machine.
    locale: "en-US",
    strictVariables: true,
    strictFilters: true,
    ownPropertyOnly: true,
    greedy: false,
    relativeReference: false,
    fs: {
      readFileSync: () => {
        throw new Error("templates cannot include files");
      },
      readFile: () => Promise.reject(new Error("templates cannot include files")),
      existsSync: () => false,
      exists: () => Promise.resolve(false),
      contains: () => Promise.resolve(false),
      resolve: (_root: string, file: string) => file,
    },
  });
  return engine;
}

export type RenderResult = { readonly ok: true; readonly text: string } | { readonly ok: false; readonly message: string };

/** Parsed templates by source: a pipeline has a handful, rendered once per attempt. */
const parsed = new Map<string, LiquidJs.Template[]>();
const MAX_PARSED = 256;

export function renderTemplate(template: TemplateSource, context: Record<string, unknown>): RenderResult {
  // Text with no Liquid delimiter renders as itself; most task prompts are plain text, so they skip the engine.
  if (!template.source.includes("{{") && !template.source.includes("{%")) return { ok: true, text: template.source };
  try {
    let tokens = parsed.get(template.source);
    if (tokens === undefined) {
      tokens = liquid().parse(template.source);
      if (parsed.size >= MAX_PARSED) parsed.clear();
      parsed.set(template.source, tokens);
    }
    const text = liquid().renderSync(tokens, context) as string;
    return { ok: true, text };
  } catch (error) {
    // liquidjs errors carry "line:col" in their message; prefix the template's own path so the user finds it.
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, message: `${template.path}: ${message}` };
  }
}
