import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));

// Tests import workspace packages by name; these aliases point them at the
// TypeScript sources so a test never runs against a stale dist/.
const workspaces: Record<string, string> = {
  '@taidon/kit': 'backend/kit',
  '@taidon/contracts': 'backend/contracts',
  '@taidon/idp': 'services/idp',
  '@taidon/user-profile': 'services/user-profile',
  '@taidon/audit-log': 'services/audit-log',
  '@taidon/snapshot-cache': 'services/snapshot-cache',
  '@taidon/env-manager': 'services/env-manager',
  '@taidon/sql-runner': 'services/sql-runner',
  '@taidon/vcs-sync': 'services/vcs-sync',
  '@taidon/exercises': 'services/exercises',
  '@taidon/gateway': 'backend/gateway',
};

export default defineConfig({
  resolve: {
    alias: Object.entries(workspaces).flatMap(([name, dir]) => [
      { find: new RegExp(`^${name}/testing$`), replacement: here(`${dir}/src/testing/index.ts`) },
      { find: new RegExp(`^${name}$`), replacement: here(`${dir}/src/index.ts`) },
    ]),
  },
  test: {
    include: [
      'backend/*/test/**/*.test.ts',
      'services/*/test/**/*.test.ts',
      'apps/*/test/**/*.test.ts',
      'frontend/main/src/**/*.test.ts',
      'e2e/**/*.test.ts',
    ],
    globalSetup: [here('backend/kit/src/testing/global-setup.ts'), here('e2e/k8s/global-setup.ts')],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
