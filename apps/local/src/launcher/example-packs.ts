import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { AccountList, AuthoredExercise, ExerciseList, ExercisePackResult, PublishResult } from '@taidon/contracts';
import { packFromFiles, readPackDirectory } from '@taidon/exercises';
import { ACCOUNT_HEADER, callService, DomainError, ROLE_HEADER, type ServiceEndpoint } from '@taidon/kit';
import type { Logger } from 'pino';

/** The example packs shipped with Taidon: each a directory of pack files (services/exercises/packs/README.md). */
export const EXAMPLE_PACKS_DIR = new URL('../../../../services/exercises/packs/', import.meta.url);

/**
 * What loading one pack did: imported now, found from an earlier start, or left alone because a pack of that
 * slug is another account's (no exercises then); and each exercise's status.
 */
export interface LoadedPack {
  slug: string;
  outcome: 'imported' | 'existing' | 'another-owner';
  exercises: {
    slug: string;
    status: 'draft' | 'published';
    score?: number;
    mutants?: number;
    killed?: number;
    survivors?: number;
    refused?: string;
  }[];
}

/**
 * The admin who owns the example packs: the account of `adminEmail` when it is an admin (TAIDON_ADMIN_EMAIL),
 * else the first admin user-profile lists; none when the platform has no admin yet.
 */
export async function packOwner(userProfile: ServiceEndpoint, adminEmail: string | undefined) {
  const { accounts } = await callService<AccountList>(userProfile, '/accounts?role=admin&limit=500');
  const wanted = adminEmail?.toLowerCase();
  return accounts.find((a) => wanted !== undefined && a.email?.toLowerCase() === wanted) ?? accounts[0];
}

/**
 * Loads the example packs into the exercises service as an admin's (`npm start`, issue 18): each pack
 * imported once (a pack already there is left as it is: 409 EXERCISES_PACK_EXISTS), then every exercise of it
 * still a draft published one by one, its kill score logged. A second start imports nothing and publishes only
 * what an earlier start left a draft before measuring it: an exercise of the admin's that was never measured
 * (one unpublished on purpose, or refused, stays a draft). A pack of the same slug another account owns (an
 * instructor made it first, or another admin) is left alone as a whole, logged: nothing of it is published,
 * whoever its exercises' author is. Without an admin nothing is loaded, and the log says why.
 */
export async function loadExamplePacks(
  services: { exercises: ServiceEndpoint; userProfile: ServiceEndpoint },
  options: { packsDir: string; adminEmail?: string },
  log: Logger,
): Promise<LoadedPack[]> {
  const owner = await packOwner(services.userProfile, options.adminEmail);
  if (!owner) {
    log.info('example exercise packs not loaded: the platform has no admin yet (TAIDON_ADMIN_EMAIL makes one)');
    return [];
  }
  const as = { headers: { [ACCOUNT_HEADER]: owner.id, [ROLE_HEADER]: 'admin' } };
  const loaded: LoadedPack[] = [];
  const dirs = (await readdir(options.packsDir, { withFileTypes: true })).filter((d) => d.isDirectory());
  for (const dir of dirs.map((d) => d.name).sort()) {
    const pack = packFromFiles(await readPackDirectory(join(options.packsDir, dir)));
    let outcome: LoadedPack['outcome'] = 'imported';
    try {
      await callService<ExercisePackResult>(services.exercises, '/exercise-packs', { ...as, body: pack });
    } catch (error) {
      if (!(error instanceof DomainError) || error.code !== 'EXERCISES_PACK_EXISTS') throw error;
      // The pack's owner decides, not each exercise's author: another account's pack is theirs to keep.
      if (error.details.yours !== true) {
        log.warn(
          { pack: pack.slug, id: error.details.id },
          "example exercise pack left alone: a pack of this slug is another account's",
        );
        loaded.push({ slug: pack.slug, outcome: 'another-owner', exercises: [] });
        continue;
      }
      outcome = 'existing';
    }
    const catalog = await callService<ExerciseList>(services.exercises, '/exercises', as);
    const exercises: LoadedPack['exercises'] = [];
    for (const { slug } of pack.exercises) {
      // Slugs are the pack's own (an instructor's exercise may have the same one): matched within the pack.
      const entry = catalog.find((e) => e.pack === pack.slug && e.slug === slug);
      if (!entry) continue;
      if (entry.status === 'published') {
        exercises.push({ slug, status: 'published' });
        continue;
      }
      // Only the admin's own example, never measured: a pack of that slug an instructor made first is theirs,
      // and an exercise measured before was published (and unpublished on purpose) or refused already.
      const authored = await callService<AuthoredExercise>(services.exercises, `/exercises/${entry.id}`, as);
      if (authored.authorId !== owner.id || authored.report !== null || authored.publishedAt !== null) {
        exercises.push({ slug, status: 'draft' });
        log.info(
          { pack: pack.slug, exercise: slug, ownedByLoader: authored.authorId === owner.id },
          "example exercise left a draft: another author's, or measured before",
        );
        continue;
      }
      try {
        const { report } = await callService<PublishResult>(services.exercises, `/exercises/${entry.id}/publish`, {
          ...as,
          method: 'POST',
        });
        exercises.push({
          slug,
          status: 'published',
          score: report.score,
          mutants: report.mutants,
          killed: report.killed,
          survivors: report.survivors.length,
        });
        log.info(
          { pack: pack.slug, exercise: slug, score: report.score, mutants: report.mutants },
          'example exercise published',
        );
      } catch (error) {
        if (!(error instanceof DomainError) || error.statusCode >= 500) throw error;
        exercises.push({ slug, status: 'draft', refused: error.code });
        log.warn({ pack: pack.slug, exercise: slug, code: error.code }, 'example exercise left a draft');
      }
    }
    loaded.push({ slug: pack.slug, outcome, exercises });
    log.info(
      { pack: pack.slug, outcome, published: exercises.filter((e) => e.status === 'published').length },
      'example exercise pack loaded',
    );
  }
  return loaded;
}
