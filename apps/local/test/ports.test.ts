import { createServer, type Server } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { ephemeralLow, servicePorts } from '../src/launcher/ports.js';

describe("the services' ports", () => {
  const held: Server[] = [];
  afterAll(async () => {
    for (const server of held) await new Promise((r) => server.close(r));
  });

  it('are free, distinct and below the ephemeral range, where listen(0) and outgoing connections never go', async () => {
    const low = await ephemeralLow();
    const ports = await servicePorts(7, [low - 1]);
    expect(new Set(ports).size).toBe(7);
    for (const port of ports) {
      expect(port).toBeLessThan(low);
      expect(port).toBeGreaterThan(1024);
    }
    expect(ports).not.toContain(low - 1);
    // listen(0) lands in the range: what a sandbox server's port is.
    const ephemeral = createServer();
    held.push(ephemeral);
    await new Promise<void>((r) => ephemeral.listen(0, '127.0.0.1', () => r()));
    expect((ephemeral.address() as { port: number }).port).toBeGreaterThanOrEqual(low);

    // Ports in use are skipped: hold the first answer's ports, ask again.
    for (const port of ports) {
      const server = createServer();
      held.push(server);
      await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
    }
    const again = await servicePorts(7);
    expect(again.filter((port) => ports.includes(port))).toEqual([]);
  });

  it('reads the range from the kernel, and falls back to its default', async () => {
    expect(await ephemeralLow('/nonexistent/ip_local_port_range')).toBe(32_768);
  });
});
