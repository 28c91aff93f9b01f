/**
 * The argv that starts a task. Everything per task that touches the file system happens in
 * the task's own shell, before it execs the command, not in the executor's event loop:
 * it creates its directory, enters it, points its stdout and stderr at `stdout` and
 * `stderr` there (appending), and — when the task must join its container — writes its own
 * pid to each `cgroup.procs` (same pid after exec, so the task and everything it starts
 * are inside the cgroups from their first instruction). Then it execs `/bin/sh -c
 * <command>`. The command is passed as an argument, never pasted into the script, so it
 * needs no quoting. Pure.
 */

/** Exit status of a task whose shell could not set itself up (its directory, or its container). */
export const SETUP_FAILED_STATUS = 125;

/** The script that joins the cgroups ("$@") and execs the command ("$0"). */
export const JOIN_SCRIPT =
  `for f in "$@"; do echo $$ > "$f" || { echo "nesos: cannot join the task's container ($f)" >&2; exit ${SETUP_FAILED_STATUS}; }; done; exec /bin/sh -c "$0"`;

/** The script that makes and enters the task's directory ("$1"), sends its output there, then joins and execs as JOIN_SCRIPT. */
export const TASK_SCRIPT =
  `mkdir -p "$1" && cd "$1" || exit ${SETUP_FAILED_STATUS}; exec >>stdout 2>>stderr; shift; ${JOIN_SCRIPT}`;

/**
 * The file and arguments to spawn for `command`: with `outputDir`, the task's own set-up
 * (directory, output files, container); without it, only the joining (health checks).
 */
export function taskArgv(command: string, joinFiles: readonly string[], outputDir?: string): { file: string; args: string[] } {
  if (outputDir !== undefined) return { file: '/bin/sh', args: ['-c', TASK_SCRIPT, command, outputDir, ...joinFiles] };
  if (joinFiles.length === 0) return { file: '/bin/sh', args: ['-c', command] };
  return { file: '/bin/sh', args: ['-c', JOIN_SCRIPT, command, ...joinFiles] };
}
