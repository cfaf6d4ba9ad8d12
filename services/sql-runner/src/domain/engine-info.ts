import type { EngineInfo } from '../clients/env-manager.js';
import { type EngineIdentity, SANDBOX_RESULT_SETTINGS } from './engine.js';

/**
 * The identity every base key (K0) is computed from: the sandbox engine's
 * version, the settings that change results, and the version of
 * env-manager's template, so a new template never serves an old state.
 */
export function engineIdentity(info: EngineInfo): EngineIdentity {
  return {
    version: info.version,
    // env-manager answers templateVersion as an integer (its contract); it has always entered the key's JSON
    // as a number, and String() would move every base key, so it keeps its type at run time.
    settings: {
      ...SANDBOX_RESULT_SETTINGS,
      ...info.settings,
      'taidon.template': info.templateVersion as unknown as string,
    },
  };
}
