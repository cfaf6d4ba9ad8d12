import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';

// The minikube/ scripts need a real cluster, a container runtime and a
// network to run, none of which this machine has: here they are checked with
// shellcheck (Debian's package, installed by scripts/setup.sh), and what they
// apply is parsed. What only a real cluster proves is their smoke test
// (minikube/README.md).

const execFileP = promisify(execFile);
const MINIKUBE_DIR = fileURLToPath(new URL('../../minikube', import.meta.url));

function shellcheckMissing(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    try {
      accessSync(join(dir, 'shellcheck'), constants.X_OK);
      return undefined;
    } catch {
      // Not in this directory of the PATH; look in the next one.
    }
  }
  return 'shellcheck is not installed (scripts/setup.sh installs it as root)';
}

const skip = shellcheckMissing();
if (skip) console.warn(`e2e/k8s/minikube skipped: ${skip}`);

describe.skipIf(skip !== undefined)('minikube/ scripts', () => {
  it('pass shellcheck, sourced library included', async () => {
    const scripts = (await readdir(MINIKUBE_DIR)).filter((f) => f.endsWith('.sh')).sort();
    expect(scripts).toEqual(['build-images.sh', 'install.sh', 'lib.sh', 'smoke.sh', 'start.sh', 'up.sh']);
    const { stdout } = await execFileP('shellcheck', ['--external-sources', '--severity=style', ...scripts], {
      cwd: join(MINIKUBE_DIR, '..'),
      timeout: 60_000,
    }).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? String(error) }));
    expect(stdout).toBe('');
    for (const script of scripts.filter((s) => s !== 'lib.sh')) {
      accessSync(join(MINIKUBE_DIR, script), constants.X_OK);
      const text = await readFile(join(MINIKUBE_DIR, script), 'utf8');
      expect(text.startsWith('#!/usr/bin/env bash\n'), script).toBe(true);
      expect(text, script).toContain('source "$(dirname "$0")/lib.sh"');
    }
  });

  it('finds a fault shellcheck reports (the check is not vacuous)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'taidon-shellcheck-'));
    try {
      await writeFile(join(dir, 'bad.sh'), '#!/usr/bin/env bash\nrm -rf $1/*\n');
      const failure = await execFileP('shellcheck', ['bad.sh'], { cwd: dir, timeout: 30_000 }).then(
        () => undefined,
        (error: { code?: number; stdout?: string }) => error,
      );
      expect(failure?.code).toBe(1);
      expect(failure?.stdout).toContain('SC2086');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('starts the control-plane PostgreSQL the chart defaults name (Service postgresql, Secret postgresql-superuser)', async () => {
    const docs = parseAllDocuments(await readFile(join(MINIKUBE_DIR, 'postgresql.yaml'), 'utf8')).map(
      (d) => d.toJS() as { kind: string; metadata: { name: string }; spec: Record<string, unknown> },
    );
    expect(docs.map((d) => `${d.kind}/${d.metadata.name}`)).toEqual([
      'Service/postgresql',
      'StatefulSet/postgresql',
      'NetworkPolicy/postgresql',
    ]);
    const values = await readFile(fileURLToPath(new URL('../../charts/taidon/values.yaml', import.meta.url)), 'utf8');
    expect(values).toMatch(/^ {2}host: postgresql$/m);
    expect(values).toMatch(/^ {4}existingSecret: postgresql-superuser$/m);
    const install = await readFile(join(MINIKUBE_DIR, 'install.sh'), 'utf8');
    expect(install).toContain('create secret generic postgresql-superuser');
    expect(install).toContain('values-development.yaml');
  });
});

describe('the images minikube/build-images.sh builds', () => {
  const root = join(MINIKUBE_DIR, '..');

  it('copies every workspace package.json before npm ci (a new workspace cannot be left out of the image)', async () => {
    const { workspaces } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { workspaces: string[] };
    const dockerfile = await readFile(join(root, 'Dockerfile'), 'utf8');
    const copied = [...dockerfile.matchAll(/^COPY (\S+)\/package\.json \1\/$/gm)].map((m) => m[1]);
    expect(copied.sort()).toEqual([...workspaces].sort());
    expect(dockerfile.indexOf('RUN npm ci')).toBeGreaterThan(dockerfile.lastIndexOf('/package.json'));
    // Non-root, by number (the kubelet checks runAsNonRoot without reading /etc/passwd), as the chart runs it.
    expect(dockerfile).toMatch(/^USER 10001:10001$/m);
    const values = await readFile(join(root, 'charts', 'taidon', 'values.yaml'), 'utf8');
    expect(values).toMatch(/^ {2}runAsUser: 10001$/m);
  });

  it('runs the sandboxes as upstream PostgreSQL uid 999, the uid the chart and env-manager expect', async () => {
    const dockerfile = await readFile(join(root, 'Dockerfile.sandbox'), 'utf8');
    expect(dockerfile).toMatch(/^FROM postgres:18-/m);
    expect(dockerfile).toMatch(/^USER 999:999$/m);
    const values = await readFile(join(root, 'charts', 'taidon', 'values.yaml'), 'utf8');
    expect(values).toMatch(/^ {4}runAsUser: 999$/m);
    expect(values).toMatch(/^ {4}tag: "18"$/m);
  });

  it('leaves dependencies and build output out of the build context', async () => {
    const ignored = (await readFile(join(root, '.dockerignore'), 'utf8')).split('\n');
    for (const entry of ['**/node_modules', '**/dist', '.git']) expect(ignored).toContain(entry);
  });
});
