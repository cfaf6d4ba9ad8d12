import type { CreateExercisePackRequest, VcsSyncApi } from '@taidon/contracts';
import { type PackFiles, packFromFiles } from './files.js';

/** Where a project keeps its exercises: a pack's files under this folder. */
const EXERCISES_FOLDER = 'exercises/';
/** The start state's scripts, as a chain runs them. */
const CHAIN_SCRIPT = /^(?:init|seed)\//i;

/**
 * The pack a project's exercise files make (vcs-sync's answer, in its order): `exercises/pack.yaml`,
 * `exercises/datasets/*.sql` and each exercise's `exercises/<slug>/` files, and as the start state the
 * project's `init/*.sql` then `seed/*.sql` joined into one `setup.sql`, each script after a comment naming
 * it. A script's `\i` of another file is not followed (the setup is one file): the state's build fails at
 * it, with its line.
 */
export function packFromProject(answer: VcsSyncApi.ProjectExerciseFiles): Omit<CreateExercisePackRequest, 'publish'> {
  const files = new Map<string, string>();
  const setup: string[] = [];
  for (const file of answer.files) {
    if (CHAIN_SCRIPT.test(file.path)) {
      setup.push(`-- ${file.path}\n${file.text}${file.text.endsWith('\n') ? '' : '\n'}`);
    } else if (file.path.startsWith(EXERCISES_FOLDER)) {
      files.set(file.path.slice(EXERCISES_FOLDER.length), file.text);
    }
  }
  files.set('setup.sql', setup.join(''));
  return packFromFiles(projectLayout(files));
}

/**
 * In a project an exercise lives in `exercises/<slug>/` (issue 18), one level higher than in a pack's
 * directory (`exercises/<slug>/` under the pack's root): its files are moved to the pack's layout, while
 * `pack.yaml`, `setup.sql` and `datasets/*.sql` stay at the root.
 */
function projectLayout(files: Map<string, string>): PackFiles {
  const laidOut = new Map<string, string>();
  for (const [path, text] of files) {
    const atRoot = path === 'pack.yaml' || path === 'setup.sql' || path.startsWith('datasets/');
    laidOut.set(atRoot ? path : `exercises/${path}`, text);
  }
  return laidOut;
}
