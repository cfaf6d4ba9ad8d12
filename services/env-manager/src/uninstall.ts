import { KubeConfig } from '@kubernetes/client-node';
import { createLogger } from '@taidon/kit';
import { deleteAllInstances } from './runtimes/kubernetes/uninstall.js';

// The chart's pre-delete hook (a Job, `node services/env-manager/dist/uninstall.js`): like server.ts, the only
// other file of env-manager that touches process.*. It deletes the sandbox namespace's TaidonInstances while
// env-manager still runs and waits for their finalizers; it exits 1 when some are left at its deadline, so
// `helm uninstall` stops and says so rather than stranding sandboxes.
//   SANDBOX_NAMESPACE            the namespace of the instances (required)
//   UNINSTALL_TIMEOUT_MS         how long to wait for the finalizers (default 300000)
const logger = createLogger({ service: 'env-manager-uninstall', level: 'info' });
const namespace = process.env.SANDBOX_NAMESPACE ?? '';
const timeoutMs = Number(process.env.UNINSTALL_TIMEOUT_MS ?? 300_000);
if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(namespace) || !Number.isInteger(timeoutMs) || timeoutMs < 0) {
  logger.error({ namespace, timeoutMs }, 'SANDBOX_NAMESPACE must be a DNS label, UNINSTALL_TIMEOUT_MS an integer');
  process.exit(2);
}
const kubeConfig = new KubeConfig();
kubeConfig.loadFromDefault();
try {
  const result = await deleteAllInstances({ kubeConfig, namespace, timeoutMs });
  if (result.remaining.length > 0) {
    logger.error(result, 'instances still there at the deadline: is env-manager running?');
    process.exit(1);
  }
  logger.info(result, 'every sandbox instance deleted');
} catch (error) {
  logger.error({ err: error }, 'could not delete the sandbox instances');
  process.exit(1);
}
