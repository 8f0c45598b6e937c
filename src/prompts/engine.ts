import { createRequire } from "node:module";
import type * as LiquidJs from "liquidjs";
import type { TemplateSource } from "../core/pipeline.js";

// liquidjs is one 180 KB CommonJS file: `require` loads it ~45 ms sooner than `import`, whose export scan reads it all.
const { Liquid } = createRequire(import.meta.url)("liquidjs") as typeof LiquidJs;

/**
 * One Liquid engine for every prompt. Strict variables and filters: a typo in a template is an error the user sees,
 * never an empty string silently sent to an agent. Templates arrive as source text (read by config/), so rendering
 * touches no file: `{% include %}` and `{% render %}` are refused by the empty in-memory file system below.
 */
const liquid = new Liquid({
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

export type RenderResult = { readonly ok: true; readonly text: string } | { readonly ok: false; readonly message: string };

export function renderTemplate(template: TemplateSource, context: Record<string, unknown>): RenderResult {
  try {
    const text = liquid.parseAndRenderSync(template.source, context) as string;
    return { ok: true, text };
  } catch (error) {
    // liquidjs errors carry "line:col" in their message; prefix the template's own path so the user finds it.
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, message: `${template.path}: ${message}` };
  }
}
