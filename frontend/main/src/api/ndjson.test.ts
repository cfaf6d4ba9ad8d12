import { describe, expect, it } from 'vitest';
import { readNdjson } from './ndjson.js';

describe('readNdjson', () => {
  it('yields each event as soon as its line is complete, across chunk boundaries and multi-byte characters', async () => {
    const bytes = new TextEncoder().encode('{"a":1}\n{"b":"ü"}\n\n{"c":3}');
    const cut = [0, 5, 16, bytes.length - 1, bytes.length];
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 1; i < cut.length; i++) controller.enqueue(bytes.slice(cut[i - 1], cut[i]));
        controller.close();
      },
    });
    const events: unknown[] = [];
    for await (const event of readNdjson(body)) events.push(event);
    expect(events).toEqual([{ a: 1 }, { b: 'ü' }, { c: 3 }]);
  });
});
