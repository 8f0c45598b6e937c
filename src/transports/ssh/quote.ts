/**
 * Quoting for the few remote command lines orc cannot avoid: every value (a path, a command, an argument) becomes one
 * single-quoted shell word, so nothing in it is ever interpreted by the remote shell.
 */
export function shq(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * The environment as one line of `export K='v';` the remote wrapper reads from stdin and evals: on stdin, not on the
 * command line, so the values (API keys) never show in the remote's process list. A newline inside a value is spelt
 * `'"$nl"'` (the wrapper sets nl to a newline), so the whole block stays one line that `read -r` takes whole. The
 * wrapper's own names (`nl`, `orc_…`) are never set from it.
 */
export function envLine(env: Readonly<Record<string, string>>): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(env)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) continue; // a name the shell cannot export: skipped, never interpolated
    if (key === "nl" || key.startsWith("orc_")) continue; // the wrapper's own: `nl` spells the newlines of what follows
    parts.push(`export ${key}=${lineWord(value)};`);
  }
  return `${parts.join(" ")}\n`;
}

/** One single-quoted word that stays on one line: a newline in it is spelt `'"$nl"'` (the wrapper sets nl). */
export function lineWord(value: string): string {
  return shq(value).replace(/\n/g, `'"$nl"'`);
}
