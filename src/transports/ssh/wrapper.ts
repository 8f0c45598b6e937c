/**
 * The remote side of one process: a POSIX sh script sshd starts (as `exec /bin/sh -c SCRIPT orc ARGS…`, so its pid is
 * the session's and the process group's, sshd having made it a session leader). It
 *   1. reports its pid (the group orc kills on a timeout or a cancel: closing the channel would not stop anything);
 *   2. reads one line of `export …` from stdin and evals it (the environment never appears on a command line);
 *   3. runs the command in the mapped working directory, stdin what is left of its own (or /dev/null);
 *   4. writes the workspace's manifest and compares it with the last synced one, so orc fetches nothing when nothing
 *      changed, and checks whether `.git` changed since the last sync (orc warns: those changes never come back);
 *   5. reports the exit status, then kills its own group: a background job left behind dies, as it would locally.
 * The reports are control records on stderr (control-records.ts). Every value arrives as a positional parameter.
 */
import { shq } from "./quote.js";
import { REMOTE_FIND } from "./manifest.js";

function script(nonce: string): string {
  return [
    'orc_cwd=$1 orc_ws=$2 orc_meta=$3 orc_mode=$4 orc_in=$5; shift 5',
    `printf '\\036${nonce}:pid:%s\\n' "$$" >&2`,
    "nl='",
    "'",
    "IFS= read -r orc_env || orc_env=",
    'eval "$orc_env"; unset orc_env',
    '[ "$orc_in" = null ] && exec </dev/null',
    'if cd "$orc_cwd" 2>/dev/null; then',
    '  if [ "$orc_mode" = sh ]; then /bin/sh -c "$@"; else "$@"; fi',
    "  orc_s=$?",
    "else",
    "  printf 'orc: the remote working directory %s does not exist\\n' \"$orc_cwd\" >&2; orc_s=126",
    "fi",
    "orc_f=same",
    'if cd "$orc_ws" 2>/dev/null; then',
    `  ${REMOTE_FIND} > "$orc_meta/manifest.new" 2>/dev/null`,
    '  cmp -s "$orc_meta/manifest.new" "$orc_meta/manifest" || orc_f=changed',
    '  [ -d .git ] && [ -n "$(find .git -maxdepth 3 -newer "$orc_meta/manifest" -print 2>/dev/null | head -n 1)" ] && orc_f=$orc_f+git',
    "fi",
    `printf '\\036${nonce}:end:%s:%s\\n' "$orc_s" "$orc_f" >&2`,
    "kill -KILL 0",
  ].join("\n");
}

export interface WrapperCall {
  readonly nonce: string;
  readonly cwd: string;
  readonly workspace: string;
  readonly meta: string;
  readonly shell: boolean;
  readonly stdin: boolean;
  readonly command: string;
  readonly args: readonly string[];
}

/** The exec request's command line: the script and every value single-quoted. */
export function wrapperCommand(call: WrapperCall): string {
  const argv = call.shell ? [call.command, "sh", ...call.args] : [call.command, ...call.args];
  const params = [call.cwd, call.workspace, call.meta, call.shell ? "sh" : "exec", call.stdin ? "in" : "null", ...argv];
  return `exec /bin/sh -c ${shq(script(call.nonce))} orc ${params.map(shq).join(" ")}`;
}
