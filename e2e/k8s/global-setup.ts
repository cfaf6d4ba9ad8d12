import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestProject } from 'vitest/node';
import { type ControlPlane, type ControlPlaneInfo, startControlPlane } from './control-plane.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** URL of the loopback broker that starts this run's one Kubernetes control plane on first request. */
    taidonK8sBroker: string;
  }
}

/**
 * Vitest global setup: at most one Kubernetes control plane per test run,
 * started only when a test file asks for it (a run of other tests pays
 * nothing), shared by every Kubernetes test file and stopped at the end.
 * Test files run in other processes, so they ask over a loopback HTTP
 * endpoint: POST answers the ControlPlaneInfo once the plane is ready.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let plane: Promise<ControlPlane> | undefined;
  const server = createServer((req, res) => {
    if (req.method !== 'POST') {
      res.writeHead(405).end();
      return;
    }
    plane ??= startControlPlane();
    plane.then(
      (p) => {
        const info: ControlPlaneInfo = { server: p.server, kubeconfig: p.kubeconfig, nodes: p.nodes, dir: p.dir };
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(info));
      },
      (error: Error) => {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(error.message);
      },
    );
  });
  // A start can take minutes on a loaded machine: no server-side request timeout.
  server.requestTimeout = 0;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  project.provide('taidonK8sBroker', `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  return async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    if (plane) await (await plane.catch(() => undefined))?.stop();
  };
}
