import type { Server, Socket } from 'node:net';

/**
 * Remembers a server's open connections — upgraded streams (exec, logs -f)
 * included, which `closeAllConnections` does not know of — so that stopping
 * it ends them all instead of waiting for clients to hang up.
 */
export function trackConnections(server: Server): { close(): Promise<void> } {
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => { sockets.add(s); s.once('close', () => sockets.delete(s)); });
  return {
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
    }),
  };
}
