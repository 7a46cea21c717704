import { createServer } from 'node:http';
import { describe, expect, it } from 'vitest';
import { ListenError, listen } from '../../src/server/listen.js';

describe('listen', () => {
  it('binds a free port, answers on its url and closes', async () => {
    const server = createServer((_request, response) => response.end('ok'));
    const listening = await listen(server, { host: '127.0.0.1', port: 0 });
    expect(listening.address).toBe('127.0.0.1');
    expect(listening.url).toBe(`http://127.0.0.1:${listening.port}`);
    expect(await (await fetch(listening.url)).text()).toBe('ok');
    await listening.close();
    expect(server.listening).toBe(false);
  });

  it('rejects naming host:port when the address is in use', async () => {
    const first = await listen(createServer(), { host: '127.0.0.1', port: 0 });
    try {
      const error = await listen(createServer(), { host: '127.0.0.1', port: first.port }).catch(
        (thrown: unknown) => thrown,
      );
      expect(error).toBeInstanceOf(ListenError);
      expect(error).toMatchObject({ code: 'EADDRINUSE', host: '127.0.0.1', port: first.port });
      expect((error as Error).message).toContain(`127.0.0.1:${first.port} (EADDRINUSE)`);
    } finally {
      await first.close();
    }
  });
});
