/**
 * The remote side of one process: a POSIX sh script sshd starts (run by the login shell itself when that is a POSIX
 * sh, else as `exec /bin/sh -c SCRIPT orc ARGS…`; either way its pid is the session's and the process group's, sshd
 * having made it a session leader). It
 *   1. reports its pid (the group orc kills on a timeout or a cancel: closing the channel would not stop anything);
 *   2. reads one line of `export …` from stdin and evals it (the environment never appears on a command line); orc
 *      may send it only once the remote copy is up to date, and sends none when it could not make it so (exit 125);
 *   3. runs the command in the mapped working directory, stdin what is left of its own (or /dev/null): a shell command
 *      is eval'd in this shell (with the args as $1…), which saves starting a second shell for every process;
 *   4. on exit (an EXIT trap, so the command's own `exit` gets there too), when orc's remote watcher runs
 *      (remote-watch.ts), only creates the barrier file orc named (with a builtin: no process) and reports "watched"
 *      ("unknown" if it could not: orc pulls in full);
 *      otherwise it checks whether anything in the workspace
 *      but `.git` changed status since the last sync (`find -cnewer` the synced manifest: one process, stopping at the
 *      first hit; ctime, which no tool can set back). Only then it writes the full manifest for orc to diff, and
 *      checks `.git` too (orc warns: changes there never come back; a change to `.git` alone goes unreported);
 *   5. reports the exit status, then kills its own group: a background job left behind dies, as it would locally.
 * A check that never ran (the process was killed, `exec`'d away, the connection dropped) loses nothing: the next
 * process's check sees the same changes, or orc pulls in full (sync.ts). After a push the synced manifest's mtime is
 * set a second back (file times are as coarse as the kernel's tick: a change in the same tick as the sync would not
 * be "newer"), so the first process after it always writes the full manifest; one identical to the synced one is
 * "same" (nothing is fetched) and replaces it, so later checks start from then. A change in the same tick as that
 * replacement or as a pull's manifest is the one case the check can miss: the next full diff (any pull) finds it.
 * The reports are control records on stderr (control-records.ts). Every value arrives as a positional parameter.
 */
import { shq } from "./quote.js";
import { REMOTE_FIND } from "./manifest.js";

/**
 * Watched: the barrier file is all (`true` is a builtin: no process); its event tells orc every change is counted.
 * Only the check the process needs is in its script: the shell parses every line of it.
 */
const WATCHED_CHECK = ['  if true 2>/dev/null >"$orc_b"; then orc_f=watched; else orc_f=unknown; fi'];

const FIND_CHECK = [
    '  if [ -n "$orc_ws" ] && cd "$orc_ws" 2>/dev/null; then',
    '    if [ ! -f "$orc_meta/manifest" ]; then orc_f=changed; else',
    '      find . -path ./.git -prune -o -cnewer "$orc_meta/manifest" -fprint "$orc_meta/hit" -quit 2>/dev/null; [ -s "$orc_meta/hit" ] && orc_f=changed',
    "    fi",
    "    if [ $orc_f = changed ]; then",
    `      ${REMOTE_FIND} > "$orc_meta/manifest.new" 2>/dev/null`,
    // Identical: nothing to fetch; the fresh file takes the old one's place, so the next check starts from now.
    '      if [ -f "$orc_meta/manifest" ] && cmp -s "$orc_meta/manifest.new" "$orc_meta/manifest"; then',
    '        mv -f "$orc_meta/manifest.new" "$orc_meta/manifest"; orc_f=same',
    '      elif [ -d .git ] && [ -f "$orc_meta/manifest" ]; then',
    '        find .git -cnewer "$orc_meta/manifest" -fprint "$orc_meta/hit" -quit 2>/dev/null; [ -s "$orc_meta/hit" ] && orc_f=changed+git',
    "      fi",
    "    fi",
    "  fi",
];

function script(nonce: string, watched: boolean): string {
  return [
    'orc_cwd=$1 orc_ws=$2 orc_meta=$3 orc_mode=$4 orc_in=$5 orc_b=$6; shift 6',
    `printf '\\036${nonce}:pid:%s\\n' "$$" >&2`,
    "orc_end() {",
    "  orc_s=$? orc_f=same",
    ...(watched ? WATCHED_CHECK : FIND_CHECK),
    `  printf '\\036${nonce}:end:%s:%s\\n' "$orc_s" "$orc_f" >&2`,
    "  kill -KILL 0",
    "}",
    "trap orc_end EXIT",
    "nl='",
    "'",
    // No line (orc could not get the workspace ready): nothing runs.
    "IFS= read -r orc_env || exit 125",
    'eval "$orc_env"; unset orc_env',
    '[ "$orc_in" = null ] && exec </dev/null',
    'cd "$orc_cwd" 2>/dev/null || { printf \'orc: the remote working directory %s does not exist\\n\' "$orc_cwd" >&2; exit 126; }',
    'if [ "$orc_mode" = sh ]; then orc_c=$1; shift 2; eval "$orc_c"; else "$@"; fi',
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
  /** The barrier file to create at exit instead of the `find` check (the remote watcher runs); undefined: the check. */
  readonly barrier?: string;
  /** The remote login shell is a POSIX sh: it runs the script itself, one program start fewer per process. */
  readonly direct?: boolean;
}

/** Login shells that run the wrapper as it is (what `$0` says in an exec request). */
export const POSIX_SHELLS = new Set(["sh", "dash", "bash", "ash", "ksh", "mksh", "busybox"]);

/** The exec request's command line: the script and every value single-quoted. */
export function wrapperCommand(call: WrapperCall): string {
  const argv = call.shell ? [call.command, "sh", ...call.args] : [call.command, ...call.args];
  const params = [call.cwd, call.workspace, call.meta, call.shell ? "sh" : "exec", call.stdin ? "in" : "null", call.barrier ?? "", ...argv].map(shq).join(" ");
  const text = script(call.nonce, call.barrier !== undefined);
  if (call.direct === true) return `set -- ${params}\n${text}`;
  return `exec /bin/sh -c ${shq(text)} orc ${params}`;
}
