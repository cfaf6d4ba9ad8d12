import { describe, expect, it } from 'vitest';
import { loadEnvManagerConfig, parseAgentMap } from '../src/config.js';

const base = {
  ENV_MANAGER_DATABASE_URL: 'postgres://em@127.0.0.1/taidon',
  SERVICE_TOKEN: 'token',
  SANDBOX_ADMIN_PASSWORD: 'admin',
};

describe('env-manager config: the kubernetes runtime', () => {
  it('reads the runtime, the sandbox settings and the agents map', () => {
    const config = loadEnvManagerConfig({
      ...base,
      ENV_MANAGER_RUNTIME: 'kubernetes',
      SANDBOX_NAMESPACE: 'sandboxes',
      SANDBOX_IMAGE: 'registry.example/taidon/sandbox:18',
      SANDBOX_RUN_AS_USER: '70',
      SANDBOX_CPU_LIMIT: '500m',
      SNAPSHOT_CACHE_AGENTS: 'node-a=http://10.0.0.5:8080,node-b=http://10.0.0.6:8080/',
    });
    expect(config).toMatchObject({
      ENV_MANAGER_RUNTIME: 'kubernetes',
      SANDBOX_NAMESPACE: 'sandboxes',
      SANDBOX_IMAGE: 'registry.example/taidon/sandbox:18',
      SANDBOX_RUN_AS_USER: 70,
      SANDBOX_CPU_LIMIT: '500m',
      SANDBOX_MEMORY_LIMIT: '256Mi',
      SANDBOX_STORAGE_CLASS: 'taidon-clone',
    });
    expect(parseAgentMap(config.SNAPSHOT_CACHE_AGENTS)).toEqual([
      { node: 'node-a', url: 'http://10.0.0.5:8080' },
      { node: 'node-b', url: 'http://10.0.0.6:8080' },
    ]);
    expect(loadEnvManagerConfig(base).ENV_MANAGER_RUNTIME).toBe('local');
  });

  it.each([
    [{ ENV_MANAGER_RUNTIME: 'cluster' }, /ENV_MANAGER_RUNTIME: must be one of local, kubernetes/],
    [{ SANDBOX_NAMESPACE: 'Sandboxes_1' }, /SANDBOX_NAMESPACE: must be a DNS label/],
    [{ SANDBOX_RUN_AS_USER: '0' }, /SANDBOX_RUN_AS_USER: must be between 1/],
    [{ SANDBOX_MEMORY_LIMIT: '256 MB' }, /SANDBOX_MEMORY_LIMIT: must be a quantity/],
    [{ SNAPSHOT_CACHE_AGENT_SELECTOR: 'app in (x)' }, /SNAPSHOT_CACHE_AGENT_SELECTOR: must be a label selector/],
    [{ SNAPSHOT_CACHE_AGENTS: 'node-a' }, /SNAPSHOT_CACHE_AGENTS: "node-a": must be <node name>=<agent URL>/],
    [{ SNAPSHOT_CACHE_AGENTS: 'node-a=ftp://x' }, /must be http\(s\)/],
    [{ SNAPSHOT_CACHE_AGENTS: 'a=http://x,a=http://y' }, /node a is named twice/],
    [{ SNAPSHOT_CACHE_AGENTS: '-', POD_NAMESPACE: '' }, /POD_NAMESPACE: required to find the node agents/],
  ])('refuses %o at start-up, naming the variable', (env, message) => {
    expect(() =>
      loadEnvManagerConfig({ ...base, ENV_MANAGER_RUNTIME: 'kubernetes', POD_NAMESPACE: 'taidon', ...env }),
    ).toThrow(message);
  });
});
