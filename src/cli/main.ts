import { BOSUN_VERSION } from '../version.js';

/** The help text; the server's flags come from its module, loaded only for this (an agent must not load the server). */
const usage = async (): Promise<string> => `bosun ${BOSUN_VERSION} — a small Kubernetes

Usage:
  bosun server [flags]      run a server (API server on SQLite or etcd)
  bosun kubectl ARGS...     run kubectl against this machine's server
  bosun sim --server URL --token T --nodes N   hollow nodes: fake nodes and kubelet (bosun sim --help)
  bosun agent --server URL --token T   join this machine as a node (bosun agent --help)
  bosun killall | uninstall  stop this machine's pods and remove their network (uninstall: and the data dir)
  bosun image push|import|busybox   image archives into the registry or the node (bosun image --help)
  bosun token create|list|delete   join tokens for agents (bosun token --help)
  bosun etcd-snapshot save|ls|delete|restore   snapshots of the datastore (bosun etcd-snapshot --help)
  bosun server-remove [NAME]   remove a server's etcd member (no NAME: list members)
  bosun --version

${(await import('./server.js')).SERVER_USAGE}`;

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  switch (command) {
    case 'server': return (await import('./server.js')).server(rest);
    case 'kubectl': return (await import('./kubectl.js')).kubectl(rest);
    case 'sim': return (await import('./sim.js')).sim(rest);
    case 'token': return (await import('./token.js')).token(rest);
    case 'image': return (await import('./image.js')).image(rest);
    case 'agent': return (await import('./agent.js')).agent(rest);
    case 'killall': return (await import('./killall.js')).killall(rest, false);
    case 'uninstall': return (await import('./killall.js')).killall(rest, true);
    case 'etcd-snapshot': return (await import('./etcd-snapshot.js')).etcdSnapshot(rest);
    case 'server-remove': return (await import('./etcd-snapshot.js')).serverRemove(rest);
    case '--version': case 'version': console.log(`bosun version v${BOSUN_VERSION}`); return;
    case undefined: case 'help': case '--help': case '-h': process.stdout.write(await usage()); return;
    default:
      process.stderr.write(`bosun: unknown command "${command}"\n\n${await usage()}`);
      process.exit(2);
  }
}

main().catch((err: unknown) => {
  console.error(`bosun: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
