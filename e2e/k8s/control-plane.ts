import { execFile, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { accessSync, closeSync, constants, existsSync, linkSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { boundToParent, chownTree, freePort, type OsUser, serverOsUser } from '@taidon/kit';

// A real Kubernetes control plane for tests, from the binaries that
// scripts/k8s-tools.sh builds: etcd, kube-apiserver (client certificates,
// RBAC+Node authorization, PodSecurity admission), kube-controller-manager,
// kube-scheduler and kwok (fake nodes whose Pods become Running). No container
// runtime and no privilege: every process runs as the unprivileged user the
// PostgreSQL servers use when the tests run as root, on 127.0.0.1 only, with
// its files in one temporary directory that stop() removes.

const execFileP = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** The Kubernetes version scripts/k8s-tools.sh builds: read from it, so the two never disagree. */
export const K8S_VERSION = (() => {
  const script = readFileSync(join(repoRoot, 'scripts', 'k8s-tools.sh'), 'utf8');
  const match = /^K8S_VERSION=([0-9.]+)$/m.exec(script);
  if (!match?.[1]) throw new Error('scripts/k8s-tools.sh names no K8S_VERSION');
  return match[1];
})();

/** Where scripts/k8s-tools.sh puts the binaries (same rule as the script; TAIDON_TOOLS_DIR moves it). */
export const K8S_BIN_DIR = join(
  process.env.TAIDON_TOOLS_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'taidon-tools'),
  `k8s-${K8S_VERSION}`,
  'bin',
);

/** The programs a control plane needs. */
export const CONTROL_PLANE_TOOLS = [
  'etcd',
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kwok',
] as const;

/** Path of a tool in the tools dir. */
export function toolPath(name: string): string {
  return join(K8S_BIN_DIR, name);
}

/** Names of the given tools that are missing (or not executable) in the tools dir. */
export function missingTools(names: readonly string[] = CONTROL_PLANE_TOOLS): string[] {
  return names.filter((name) => {
    try {
      accessSync(toolPath(name), constants.X_OK);
      return false;
    } catch {
      return true;
    }
  });
}

/** Why the Kubernetes tests skip here, or undefined when they can run. */
export function skipReason(names: readonly string[] = CONTROL_PLANE_TOOLS): string | undefined {
  const missing = missingTools(names);
  if (names.includes('kwok') && !existsSync(join(K8S_BIN_DIR, '..', 'kwok-stages.yaml')))
    missing.push('kwok-stages.yaml');
  if (missing.length === 0) return undefined;
  return `Kubernetes tools missing in ${K8S_BIN_DIR} (${missing.join(', ')}): run ./scripts/k8s-tools.sh (CI does)`;
}

/** The fake nodes kwok manages: the annotation kwok selects them by. */
export const KWOK_NODE_ANNOTATION = 'kwok.x-k8s.io/node';

export interface ControlPlaneOptions {
  /** Fake nodes to create (kwok-node-0, kwok-node-1, …). */
  nodes?: number;
  /** Limit for the whole start, generous: a loaded 2-core machine is slow. */
  startTimeoutMs?: number;
}

/** What a test needs to reach the control plane. */
export interface ControlPlaneInfo {
  /** The API server's URL (https://127.0.0.1:port). */
  server: string;
  /** An admin kubeconfig (system:masters), for KubeConfig.loadFromFile. */
  kubeconfig: string;
  /** Names of the kwok nodes, Ready. */
  nodes: string[];
  /** The temporary directory that holds everything (certificates, etcd data, logs). */
  dir: string;
}

export interface ControlPlane extends ControlPlaneInfo {
  /** Pids of the running processes, by name. */
  pids: Record<string, number>;
  /** Stops every process (reverse order), checks none is left and removes the directory. */
  stop(): Promise<void>;
}

interface Proc {
  name: string;
  pid: number;
  exited: Promise<void>;
  running(): boolean;
  tail(): string;
}

/** Spawns a tool as `user`, bound to this process (it dies with it), output to `<dir>/<name>.log`. */
function launch(dir: string, user: OsUser, name: string, file: string, args: string[]): Proc {
  const logPath = join(dir, `${name}.log`);
  const fd = openSync(logPath, 'a');
  const bound = boundToParent(file, args, 'SIGTERM');
  const child = spawn(bound?.file ?? file, bound?.args ?? args, {
    uid: user.uid,
    gid: user.gid,
    cwd: dir,
    stdio: ['ignore', fd, fd],
    // A small environment: HOME in the temp dir (kwok keeps state under it), no proxy settings.
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir },
  });
  closeSync(fd);
  if (child.pid === undefined) throw new Error(`${name} did not start`);
  let done = false;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      done = true;
      resolve();
    });
    child.once('error', () => {
      done = true;
      resolve();
    });
  });
  return {
    name,
    pid: child.pid,
    exited,
    running: () => !done,
    tail: () => {
      try {
        return readFileSync(logPath, 'utf8').slice(-3000);
      } catch {
        return '';
      }
    },
  };
}

async function stopProc(proc: Proc): Promise<void> {
  if (!proc.running()) return;
  try {
    process.kill(proc.pid, 'SIGTERM');
  } catch {
    // Already gone.
  }
  const timer = setTimeout(() => {
    try {
      process.kill(proc.pid, 'SIGKILL');
    } catch {
      // Gone meanwhile.
    }
  }, 15_000);
  await proc.exited;
  clearTimeout(timer);
}

/** Pids of live processes whose command line mentions `dir` (every process of ours does). */
export function processesUsing(dir: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.includes(dir)) found.push(Number(entry));
    } catch {
      // Exited while we looked.
    }
  }
  return found;
}

async function openssl(cwd: string, args: string[]): Promise<void> {
  await execFileP('openssl', args, { cwd, timeout: 60_000 });
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** A certificate signed by the test CA, for a client (`O`/`CN` are its Kubernetes groups/user) or the server. */
async function issue(pki: string, name: string, subject: string, extensions: string): Promise<void> {
  await openssl(pki, ['req', '-new', ...EC, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject]);
  await writeFile(join(pki, `${name}.ext`), extensions);
  await openssl(pki, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '2',
    '-out',
    `${name}.crt`,
    '-extfile',
    `${name}.ext`,
  ]);
}

const CLIENT_EXT = 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n';

function kubeconfigYaml(server: string, pki: string, user: string): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: taidon-test',
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority: ${join(pki, 'ca.crt')}`,
    'users:',
    `- name: ${user}`,
    '  user:',
    `    client-certificate: ${join(pki, `${user}.crt`)}`,
    `    client-key: ${join(pki, `${user}.key`)}`,
    'contexts:',
    '- name: taidon-test',
    '  context:',
    '    cluster: taidon-test',
    `    user: ${user}`,
    'current-context: taidon-test',
    '',
  ].join('\n');
}

interface Tls {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

/** One HTTPS request to the control plane; resolves with the status and body. */
function httpsCall(url: string, tls: Tls, method = 'GET', body?: unknown): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      url,
      {
        method,
        ...tls,
        // The controller-manager and scheduler serve self-signed certificates.
        rejectUnauthorized: tls.ca !== undefined,
        timeout: 10_000,
        headers: payload ? { 'content-type': 'application/json' } : {},
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          text += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(payload);
  });
}

/** Polls `check` until it returns true, failing with `describe()` when `deadline` passes or a process died. */
async function until(
  what: string,
  deadline: number,
  procs: Proc[],
  check: () => Promise<boolean>,
  describe: () => string = () => '',
): Promise<void> {
  let last = '';
  for (;;) {
    const dead = procs.find((p) => !p.running());
    if (dead) throw new Error(`${dead.name} exited while waiting for ${what}:\n${dead.tail()}`);
    try {
      if (await check()) return;
    } catch (error) {
      last = (error as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (${last}) ${describe()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Makes the tools reachable by `user`: the tools dir may sit under a home it cannot enter (/root). */
async function stageBinaries(dir: string, names: readonly string[]): Promise<string> {
  const bin = join(dir, 'bin');
  await mkdir(bin);
  for (const name of names) {
    try {
      linkSync(toolPath(name), join(bin, name)); // Same filesystem: instant, no copy of ~100 MB.
    } catch {
      await copyFile(toolPath(name), join(bin, name), constants.COPYFILE_FICLONE);
    }
  }
  await copyFile(join(K8S_BIN_DIR, '..', 'kwok-stages.yaml'), join(dir, 'kwok-stages.yaml'));
  return bin;
}

/**
 * Starts etcd, kube-apiserver, kube-controller-manager, kube-scheduler and
 * kwok, creates `nodes` fake nodes and waits until the API server is ready,
 * the controllers work (the default service account exists) and every node is
 * Ready. Throws with the failing process's log on failure (after stopping the
 * others).
 */
export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const reason = skipReason();
  if (reason) throw new Error(reason);
  const deadline = Date.now() + (options.startTimeoutMs ?? 240_000);
  const user = serverOsUser();
  const dir = await mkdtemp(join(tmpdir(), 'taidon-k8s-'));
  const procs: Proc[] = [];
  const stopAll = async (): Promise<void> => {
    for (const proc of [...procs].reverse()) await stopProc(proc);
  };
  try {
    const bin = await stageBinaries(dir, CONTROL_PLANE_TOOLS);
    const pki = join(dir, 'pki');
    await mkdir(pki);
    await openssl(pki, [
      'req',
      '-x509',
      ...EC,
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-days',
      '2',
      '-subj',
      '/CN=taidon-test-ca',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
    ]);
    const [etcdPort, etcdPeerPort, apiPort, kcmPort, schedPort, kwokPort] = await Promise.all(
      Array.from({ length: 6 }, () => freePort()),
    );
    const server = `https://127.0.0.1:${apiPort}`;
    await issue(
      pki,
      'apiserver',
      '/CN=kube-apiserver',
      'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' +
        'subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc\n',
    );
    // Each component under its own identity, so the bootstrap RBAC policy is what grants it.
    await issue(pki, 'admin', '/O=system:masters/CN=taidon-test-admin', CLIENT_EXT);
    await issue(pki, 'controller-manager', '/CN=system:kube-controller-manager', CLIENT_EXT);
    await issue(pki, 'scheduler', '/CN=system:kube-scheduler', CLIENT_EXT);
    // Service-account token signing key pair.
    const sa = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    await writeFile(join(pki, 'sa.key'), sa.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    await writeFile(join(pki, 'sa.pub'), sa.publicKey.export({ type: 'spki', format: 'pem' }));
    const kubeconfig = join(dir, 'admin.kubeconfig');
    await writeFile(kubeconfig, kubeconfigYaml(server, pki, 'admin'));
    await writeFile(join(dir, 'controller-manager.kubeconfig'), kubeconfigYaml(server, pki, 'controller-manager'));
    await writeFile(join(dir, 'scheduler.kubeconfig'), kubeconfigYaml(server, pki, 'scheduler'));
    await chownTree(dir, user);

    const etcdUrl = `http://127.0.0.1:${etcdPort}`;
    const peerUrl = `http://127.0.0.1:${etcdPeerPort}`;
    procs.push(
      launch(dir, user, 'etcd', join(bin, 'etcd'), [
        '--name=taidon-test',
        `--data-dir=${join(dir, 'etcd')}`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=taidon-test=${peerUrl}`,
        // Test data: no fsync (the apiserver's writes are many and small).
        '--unsafe-no-fsync',
        '--log-level=warn',
      ]),
    );
    await until('etcd', deadline, procs, async () => {
      const res = await fetch(`${etcdUrl}/health`);
      return res.ok;
    });

    const tls: Tls = {
      ca: await readFile(join(pki, 'ca.crt')),
      cert: await readFile(join(pki, 'admin.crt')),
      key: await readFile(join(pki, 'admin.key')),
    };
    procs.push(
      launch(dir, user, 'kube-apiserver', join(bin, 'kube-apiserver'), [
        `--etcd-servers=${etcdUrl}`,
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        // The `kubernetes` Service's endpoints may not be loopback; nothing in the tests uses them.
        '--endpoint-reconciler-type=none',
        `--secure-port=${apiPort}`,
        `--cert-dir=${join(dir, 'apiserver')}`,
        `--tls-cert-file=${join(pki, 'apiserver.crt')}`,
        `--tls-private-key-file=${join(pki, 'apiserver.key')}`,
        `--client-ca-file=${join(pki, 'ca.crt')}`,
        `--service-account-key-file=${join(pki, 'sa.pub')}`,
        `--service-account-signing-key-file=${join(pki, 'sa.key')}`,
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        '--service-cluster-ip-range=10.96.0.0/16',
        '--authorization-mode=Node,RBAC',
        // PodSecurity is what the sandbox namespace's labels rely on; the others are the usual set.
        '--enable-admission-plugins=NodeRestriction,PodSecurity,ServiceAccount,LimitRanger,ResourceQuota',
        // Privileged containers are allowed by the server, so a refusal comes from PodSecurity.
        '--allow-privileged=true',
        '--profiling=false',
      ]),
    );
    await until(
      'kube-apiserver /readyz',
      deadline,
      procs,
      async () => (await httpsCall(`${server}/readyz`, tls)).status === 200,
    );

    procs.push(
      launch(dir, user, 'kube-controller-manager', join(bin, 'kube-controller-manager'), [
        `--kubeconfig=${join(dir, 'controller-manager.kubeconfig')}`,
        `--authentication-kubeconfig=${join(dir, 'controller-manager.kubeconfig')}`,
        `--authorization-kubeconfig=${join(dir, 'controller-manager.kubeconfig')}`,
        '--bind-address=127.0.0.1',
        `--secure-port=${kcmPort}`,
        `--cert-dir=${join(dir, 'controller-manager')}`,
        '--leader-elect=false',
        `--service-account-private-key-file=${join(pki, 'sa.key')}`,
        `--root-ca-file=${join(pki, 'ca.crt')}`,
        '--use-service-account-credentials=true',
        '--profiling=false',
      ]),
      launch(dir, user, 'kube-scheduler', join(bin, 'kube-scheduler'), [
        `--kubeconfig=${join(dir, 'scheduler.kubeconfig')}`,
        `--authentication-kubeconfig=${join(dir, 'scheduler.kubeconfig')}`,
        `--authorization-kubeconfig=${join(dir, 'scheduler.kubeconfig')}`,
        '--bind-address=127.0.0.1',
        `--secure-port=${schedPort}`,
        `--cert-dir=${join(dir, 'scheduler')}`,
        '--leader-elect=false',
        '--profiling=false',
      ]),
      launch(dir, user, 'kwok', join(bin, 'kwok'), [
        `--kubeconfig=${kubeconfig}`,
        // The stages (node and Pod lifecycles) scripts/k8s-tools.sh takes from kwok's source.
        `--config=${join(dir, 'kwok-stages.yaml')}`,
        '--manage-all-nodes=false',
        `--manage-nodes-with-annotation-selector=${KWOK_NODE_ANNOTATION}=fake`,
        `--server-address=127.0.0.1:${kwokPort}`,
        '--cidr=10.244.0.1/16',
        '--node-ip=10.244.0.1',
      ]),
    );

    const nodes = Array.from({ length: options.nodes ?? 2 }, (_, i) => `kwok-node-${i}`);
    const podRange = loopbackPodRange();
    for (const [i, name] of nodes.entries()) {
      const res = await httpsCall(`${server}/api/v1/nodes`, tls, 'POST', fakeNode(name, podRange(i)));
      if (res.status !== 201) throw new Error(`creating node ${name}: ${res.status} ${res.body}`);
    }
    await until(
      'kube-controller-manager /healthz',
      deadline,
      procs,
      async () => (await httpsCall(`https://127.0.0.1:${kcmPort}/healthz`, {})).status === 200,
    );
    await until(
      'kube-scheduler /healthz',
      deadline,
      procs,
      async () => (await httpsCall(`https://127.0.0.1:${schedPort}/healthz`, {})).status === 200,
    );
    // The controllers work: the service-account controller made `default` in `default`.
    await until(
      'the default service account',
      deadline,
      procs,
      async () => (await httpsCall(`${server}/api/v1/namespaces/default/serviceaccounts/default`, tls)).status === 200,
    );
    await until('kwok nodes Ready', deadline, procs, async () => {
      for (const name of nodes) {
        const res = await httpsCall(`${server}/api/v1/nodes/${name}`, tls);
        if (res.status !== 200) return false;
        const node = JSON.parse(res.body) as { status?: { conditions?: { type: string; status: string }[] } };
        if (!node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) return false;
      }
      return true;
    });

    const pids = Object.fromEntries(procs.map((p) => [p.name, p.pid]));
    return {
      server,
      kubeconfig,
      nodes,
      dir,
      pids,
      async stop() {
        await stopAll();
        const left = processesUsing(dir);
        await rm(dir, { recursive: true, force: true });
        if (left.length > 0) throw new Error(`control plane processes left running: ${left.join(', ')}`);
      },
    };
  } catch (error) {
    await stopAll();
    const logs = procs.map((p) => `--- ${p.name}\n${p.tail()}`).join('\n');
    if (!process.env.TAIDON_K8S_KEEP) await rm(dir, { recursive: true, force: true });
    throw new Error(`${(error as Error).message}\n${logs}`);
  }
}

/** A Node object kwok takes over (by the annotation) and keeps Ready; room for many small Pods. */
/**
 * Each fake node's Pod addresses (its `podCIDR`, from which kwok gives a Pod its IP): a /24 of the loopback range,
 * the second and third octets random per control plane (concurrent planes on one machine rarely share one), so a
 * test can serve a real PostgreSQL at a sandbox Pod's own address (a loopback address needs no set-up on Linux)
 * and env-manager reaches it there as it would in a cluster.
 */
function loopbackPodRange(): (node: number) => string {
  const second = 1 + Math.floor(Math.random() * 254);
  const third = Math.floor(Math.random() * 192);
  return (node) => `127.${second}.${third + node}.0/24`;
}

function fakeNode(name: string, podCidr: string): object {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      annotations: { [KWOK_NODE_ANNOTATION]: 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
      labels: {
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        type: 'kwok',
      },
    },
    spec: { podCIDR: podCidr, podCIDRs: [podCidr] },
    status: {
      allocatable: { cpu: '8', memory: '32Gi', pods: '110' },
      capacity: { cpu: '8', memory: '32Gi', pods: '110' },
    },
  };
}
