/**
 * The argv that starts a task: `/bin/sh -c <command>`, or, when the task must join its
 * container's cgroups first, a small shell that writes its own pid to each `cgroup.procs`
 * and then execs `/bin/sh -c <command>` (same pid, so the task and everything it starts
 * are inside the cgroups from their first instruction). The command is passed as an
 * argument, never pasted into the script, so it needs no quoting. Pure.
 */

/** Exit status of a task whose shell could not join its container. */
export const JOIN_FAILED_STATUS = 125;

/** The script that joins the cgroups ("$@") and execs the command ("$0"). */
export const JOIN_SCRIPT =
  `for f in "$@"; do echo $$ > "$f" || { echo "nesos: cannot join the task's container ($f)" >&2; exit ${JOIN_FAILED_STATUS}; }; done; exec /bin/sh -c "$0"`;

/** The file and arguments to spawn for `command`, joining `joinFiles` first when there are any. */
export function taskArgv(command: string, joinFiles: readonly string[]): { file: string; args: string[] } {
  if (joinFiles.length === 0) return { file: '/bin/sh', args: ['-c', command] };
  return { file: '/bin/sh', args: ['-c', JOIN_SCRIPT, command, ...joinFiles] };
}
