/**
 * `FILE#SECTION` protect entries: one part of a file is protected, the rest stays the agent's to edit. A project's
 * manifest says both how its tests run and what it depends on; an agent may add a dependency to package.json, but not
 * change its `test` script. Pure: the texts come from the checkpoints before and after the attempt.
 */

/** A protect entry split into the glob of the file and, for `FILE#SECTION`, the section. */
export function splitEntry(entry: string): { readonly glob: string; readonly section?: string } {
  const hash = entry.lastIndexOf("#");
  if (hash <= 0 || hash === entry.length - 1) return { glob: entry };
  return { glob: entry.slice(0, hash), section: entry.slice(hash + 1) };
}

/**
 * The part of `text` that `section` names, as a string to compare: a top-level key of a JSON file, or the sections of a
 * TOML/INI file whose header is `section` or starts with `section.` (`[tool.pytest.ini_options]` for `tool.pytest`,
 * `[[test]]` for `test`). A file that is neither, or JSON that does not parse, is compared whole.
 */
export function sectionOf(path: string, text: string | undefined, section: string): string {
  if (text === undefined) return "\0absent";
  if (path.endsWith(".json")) {
    try {
      const value = (JSON.parse(text) as Record<string, unknown> | null)?.[section];
      return JSON.stringify(value ?? null);
    } catch {
      return text;
    }
  }
  if (/\.(toml|cfg|ini)$/.test(path)) return iniSections(text, section);
  return text;
}

const HEADER = /^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$/;

function iniSections(text: string, section: string): string {
  const kept: string[] = [];
  let inside = false;
  for (const line of text.split(/\r?\n/)) {
    const header = HEADER.exec(line);
    if (header) {
      const name = (header[1] ?? "").replace(/["']/g, "");
      inside = name === section || name.startsWith(`${section}.`);
    }
    if (inside && line.trim() !== "") kept.push(line.trim());
  }
  return kept.join("\n");
}
