/**
 * The remote side of one process: a POSIX sh script sshd starts (run by the login shell itself when that is a POSIX
 * sh, else as `exec /bin/sh -c SCRIPT orc`; either way its pid is the session's and the process group's, sshd
 * having made it a session leader). It
 *   1. reports its pid (the group orc kills on a timeout or a cancel: closing the channel would not stop anything);
 *   2. reads one line from stdin and evals it: the process's parameters (`set -- …`: where, what, its barrier) and
 *      its environment (`export …`), so neither appears on a command line, and the command line is the same script
 *      for every process: orc opens the next process's channel ahead of it, and that wrapper waits here for its
 *      line (transport.ts). orc sends the line only once the remote copy is up to date, and none when it could not
 *      make it so (exit 125, nothing run);
 *   3. runs the command in the mapped working directory, stdin what is left of its own (or /dev/null): a shell command
 *      is eval'd in this shell (with the args as $1…), which saves starting a second shell for every process;
 *   4. on exit (an EXIT trap, so the command's own `exit` gets there too), when orc named a barrier file (its remote
 *      watcher runs: remote-watch.ts), only creates it (with a builtin: no process) and reports "watched" ("unknown"
 *      if it could not: orc pulls in full); otherwise it checks whether anything in the workspace
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
 * The reports are control records on stderr (control-records.ts). Every value arrives single-quoted in the line it
 * reads.
 */
import { createHash } from "node:crypto";
import { envLine, lineWord, shq } from "./quote.js";
import { REMOTE_FIND } from "./manifest.js";

const FIND_CHECK = [
    '  if [ -n "$orc_ws" ] && cd "$orc_ws" 2>/dev/null; then',
    '    if [ ! -f "$orc_meta/manifest" ]; then orc_f=changed; else',
    '      find . -path ./.git -prune -o -cnewer "$orc_meta/manifest" -fprint "$orc_meta/hit" -quit 2>/dev/null; [ -s "$orc_meta/hit" ] && orc_f=changed',
    "    fi",
    '    if [ "$orc_f" = changed ]; then',
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

/**
 * The script, the same for every process but for its nonce and its copy's name. Both checks are in it: the shell
 * parses them before the wrapper waits for its line, which for a channel opened ahead is before the process is even
 * asked for.
 */
function script(nonce: string, copy: string): string {
  return [
    `: ${copyToken(copy)}`,
    `printf '\\036${nonce}:pid:%s\\n' "$$" >&2`,
    "orc_ws= orc_b=",
    "orc_end() {",
    // A shell command runs in this shell and may have set IFS: the checks below split words the usual way.
    "  orc_s=$? orc_f=same; unset IFS",
    // Watched: the barrier file is all (`true` is a builtin: no process); its event tells orc every change is counted.
    '  if [ -n "$orc_b" ]; then',
    '    if true 2>/dev/null >"$orc_b"; then orc_f=watched; else orc_f=unknown; fi',
    "  else",
    ...FIND_CHECK.map((line) => `  ${line}`),
    "  fi",
    `  printf '\\036${nonce}:end:%s:%s\\n' "$orc_s" "$orc_f" >&2`,
    "  kill -KILL 0",
    "}",
    "trap orc_end EXIT",
    "nl='",
    "'",
    // No line (orc could not get the workspace ready, or closed a channel it opened ahead): nothing runs.
    "IFS= read -r orc_line || exit 125",
    'eval "$orc_line"; unset orc_line',
    // Past this point the command runs: a channel that closes before orc sees this ran nothing (process-channels.ts).
    `printf '\\036${nonce}:go\\n' >&2`,
    "orc_cwd=$1 orc_ws=$2 orc_meta=$3 orc_mode=$4 orc_in=$5 orc_b=$6; shift 6",
    '[ "$orc_in" = null ] && exec </dev/null',
    'cd "$orc_cwd" 2>/dev/null || { printf \'orc: the remote working directory %s does not exist\\n\' "$orc_cwd" >&2; exit 126; }',
    'if [ "$orc_mode" = sh ]; then orc_c=$1; shift 2; eval "$orc_c"; else "$@"; fi',
  ].join("\n");
}

/** What one process is: the wrapper's line (`wrapperLine`). */
export interface WrapperCall {
  readonly cwd: string;
  readonly workspace: string;
  readonly meta: string;
  readonly shell: boolean;
  readonly stdin: boolean;
  readonly command: string;
  readonly args: readonly string[];
  /** The barrier file to create at exit instead of the `find` check (the remote watcher runs); undefined: the check. */
  readonly barrier?: string;
}

/** Login shells that run the wrapper as it is (what `$0` says in an exec request). */
export const POSIX_SHELLS = new Set(["sh", "dash", "bash", "ash", "ksh", "mksh", "busybox"]);

/**
 * The exec request's command line: the script, whose first line names `copy`, the remote copy's sync folder, which
 * the processes of that copy will be given (sync.ts finds what an orc that died left running there by it). `direct`:
 * the remote login shell is a POSIX sh and runs the script itself, one program start fewer per process.
 */
export function wrapperCommand(nonce: string, direct: boolean, copy: string): string {
  const text = script(nonce, copy);
  return direct ? text : `exec /bin/sh -c ${shq(text)} orc`;
}

/**
 * What finds the wrappers of the copy whose sync folder is `copy` in the remote's process list (`pgrep -f`): the
 * script's first line; its first character bracketed, so the shell that looks for it does not match.
 */
export function wrapperPattern(copy: string): string {
  return `[:] ${copyToken(copy)}`;
}

/**
 * The copy's name on a wrapper's command line: a hash of its sync folder's path, plain ASCII of one length, so that
 * pgrep finds it whatever the path holds (procps shows bytes past ASCII and control characters as `?` in the C
 * locale) and no copy's name begins another's.
 */
function copyToken(copy: string): string {
  return `orc-copy-${createHash("sha256").update(copy).digest("hex").slice(0, 32)}`;
}

/** The one line the wrapper reads and evals: its parameters as `set -- …`, then the environment's exports. */
export function wrapperLine(call: WrapperCall, env: Readonly<Record<string, string>>): string {
  const argv = call.shell ? [call.command, "sh", ...call.args] : [call.command, ...call.args];
  const params = [call.cwd, call.workspace, call.meta, call.shell ? "sh" : "exec", call.stdin ? "in" : "null", call.barrier ?? "", ...argv];
  return `set -- ${params.map(lineWord).join(" ")}; ${envLine(env)}`;
}
