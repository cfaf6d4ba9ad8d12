import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Where util-linux's `setpriv` is looked for besides PATH (a service's PATH may be trimmed). */
const SETPRIV_DIRS = ['/usr/bin', '/bin', '/usr/sbin', '/sbin'];

let setpriv: string | null | undefined;

/** Path of `setpriv` (util-linux ≥ 2.33 has `--pdeathsig`), or null where it is not installed. */
export function setprivPath(): string | null {
  if (setpriv !== undefined) return setpriv;
  setpriv = null;
  for (const dir of [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...SETPRIV_DIRS]) {
    try {
      accessSync(join(dir, 'setpriv'), constants.X_OK);
      setpriv = join(dir, 'setpriv');
      break;
    } catch {
      // Not here.
    }
  }
  return setpriv;
}

/**
 * The command that runs `file args` so that it receives `signal` when the process that spawns it exits, however
 * it exits (`kill -9` included): `setpriv --pdeathsig`, i.e. the kernel's PR_SET_PDEATHSIG, set after any change
 * of user and kept across the exec (the program is not set-user-id). Undefined where setpriv is missing: then the
 * caller must send the signal itself. The signal comes when the spawning *thread* ends, so spawn from the main
 * thread only. The program keeps its pid (setpriv execs it).
 */
export function boundToParent(
  file: string,
  args: readonly string[],
  signal: NodeJS.Signals,
): { file: string; args: string[] } | undefined {
  const wrapper = setprivPath();
  return wrapper ? { file: wrapper, args: ['--pdeathsig', signal, '--', file, ...args] } : undefined;
}
