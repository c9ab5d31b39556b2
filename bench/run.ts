/** `npm run bench -- NAME [args]`: runs one benchmark, which prints one JSON line. */
export {};
const benches: Record<string, () => Promise<{ main: (args: string[]) => Promise<void> }>> = {
  agent: () => import('./agent.js'),
  apiserver: () => import('./apiserver.js'),
  controllers: () => import('./controllers.js'),
  dns: () => import('./dns.js'),
  ha: () => import('./ha.js'),
  podstartup: () => import('./podstartup.js'),
  proxy: () => import('./proxy.js'),
  scheduler: () => import('./scheduler.js'),
};

const [name, ...args] = process.argv.slice(2);
const load = name ? benches[name] : undefined;
if (!load) {
  console.error(`usage: npm run bench -- <${Object.keys(benches).join('|')}> [args]`);
  process.exit(2);
}
await (await load()).main(args);
