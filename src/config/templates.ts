import { existsSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { TemplateSource } from "../core/pipeline.js";
import { didYouMean, q, type Path } from "./describe.js";
import { describeReadProblem, readText } from "./read-text.js";
import type { Scope } from "./scope.js";

/** The first of `dirs` in which `file` exists, else as if under the first: where relative paths in a file point. */
export function resolveFile(file: string, dirs: readonly string[]): string {
  if (isAbsolute(file)) return file;
  const candidates = dirs.map((dir) => resolve(dir, file));
  return candidates.find((candidate) => existsSync(candidate)) ?? candidates[0] ?? resolve(file);
}

/** Reads a template a file names (`what` is e.g. `task "x": template file`), or reports why it cannot. */
export function readTemplate(file: string, path: Path, what: string, scope: Scope): TemplateSource | undefined {
  if (file.startsWith(PACK_TEMPLATE)) return packTemplate(file, path, what, scope);
  const absolute = resolveFile(file, scope.dirs);
  const text = readText(absolute);
  if (text.ok) return { path: absolute, source: text.value };
  const code = text.failure.kind === "missing" ? "missing-template" : "unreadable-template";
  scope.out.error(code, `${what} ${q(file)} ${describeReadProblem(text.failure)}`, path);
  return undefined;
}

/** `pack:NAME` names a template from the `templates:` of a rule pack in `uses:` (a later pack wins). */
const PACK_TEMPLATE = "pack:";

function packTemplate(ref: string, path: Path, what: string, scope: Scope): TemplateSource | undefined {
  const name = ref.slice(PACK_TEMPLATE.length);
  const packs = scope.packTemplates ?? { known: new Map<string, TemplateSource>(), complete: true };
  const found = packs.known.get(name);
  if (found !== undefined) return { ...found, ref };
  // Some pack was not read (a git pack, which plan and validate do not fetch): the name cannot be checked here, and
  // only `orc apply`, which fetches, makes a pipeline a run stores.
  if (!packs.complete) return { path: ref, source: "", ref };
  const hint = scope.out.full ? "" : didYouMean(name, [...packs.known.keys()]);
  scope.out.error("unknown-template", `${what} ${q(ref)}: no rule pack in uses: has a template ${q(name)}${hint}`, path);
  return undefined;
}

let retry: TemplateSource | undefined;

/** templates/retry.liquid shipped with orc; the same relative URL works from src/config and dist/config. */
export function shippedRetryTemplate(): TemplateSource {
  if (retry !== undefined) return retry;
  const path = fileURLToPath(new URL("../../templates/retry.liquid", import.meta.url));
  const text = readText(path);
  // Not the user's input: a missing shipped file is a broken installation, which is a bug.
  if (!text.ok) throw new Error(`orc's shipped template ${path} ${describeReadProblem(text.failure)}`);
  retry = { path, source: text.value };
  return retry;
}

const shipped = new Map<string, TemplateSource>();

/** A template shipped in orc's templates/ folder (e.g. judge.liquid, the default judge rubric). */
export function shippedTemplate(name: string): TemplateSource {
  const cached = shipped.get(name);
  if (cached !== undefined) return cached;
  const path = fileURLToPath(new URL(`../../templates/${name}`, import.meta.url));
  const text = readText(path);
  if (!text.ok) throw new Error(`orc's shipped template ${path} ${describeReadProblem(text.failure)}`);
  const template = { path, source: text.value };
  shipped.set(name, template);
  return template;
}
