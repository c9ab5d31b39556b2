import { parseArgs } from 'node:util';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultDataDir } from '../server/data-dir.js';

export const IMAGE_USAGE = `Usage:
  bosun image push FILE.tar NAME:TAG        put an image archive (OCI layout or docker-archive tar) into the
                                            registry NAME starts with, e.g. 127.0.0.1:5000/web:1
  bosun image import FILE.tar [NAME:TAG]    put it straight into this machine's containerd (the agent's)
  bosun image busybox FILE.tar [--name N]   build a busybox image (Debian's busybox-static) as an OCI archive
Flags: --data-dir DIR (the agent's, for import)
`;

/** `127.0.0.1:5000/team/web:1` → registry URL, repository and tag. */
export function splitRegistryReference(ref: string): { registry: string; repository: string; tag: string } {
  const slash = ref.indexOf('/');
  const host = slash > 0 ? ref.slice(0, slash) : '';
  if (!host || !(host.includes(':') || host.includes('.') || host === 'localhost')) {
    throw new Error(`"${ref}" names no registry: push to e.g. 127.0.0.1:5000/${ref}`);
  }
  const rest = ref.slice(slash + 1);
  const colon = rest.lastIndexOf(':');
  return colon > 0
    ? { registry: `http://${host}`, repository: rest.slice(0, colon), tag: rest.slice(colon + 1) }
    : { registry: `http://${host}`, repository: rest, tag: 'latest' };
}

export async function image(argv: string[]): Promise<void> {
  const [verb, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest, allowPositionals: true, strict: true,
    options: { 'data-dir': { type: 'string', short: 'd' }, name: { type: 'string' } },
  });
  switch (verb) {
    case 'push': {
      const [file, ref] = positionals;
      if (!file || !ref) throw new Error(`bosun image push FILE.tar NAME:TAG\n\n${IMAGE_USAGE}`);
      const { pushImage } = await import('../registry/index.js');
      const { registry, repository, tag } = splitRegistryReference(ref);
      const digest = await pushImage(registry, repository, tag, file);
      console.log(`${ref}: pushed (${digest})`);
      return;
    }
    case 'import': {
      const [file, name] = positionals;
      if (!file) throw new Error(`bosun image import FILE.tar [NAME:TAG]\n\n${IMAGE_USAGE}`);
      const { containerdPaths, ctr } = await import('../agent/containerd.js');
      const { agentPaths } = await import('../agent/agent.js');
      const socketPath = containerdPaths(agentPaths(values['data-dir'] ?? defaultDataDir()).containerd).socket;
      if (!existsSync(socketPath)) throw new Error(`no containerd at ${socketPath}: is the agent running (or give --data-dir)?`);
      if (!name) {
        // ctr names the image itself: by the archive's RepoTags (docker) or ref name (OCI).
        process.stdout.write(await ctr({ socketPath }, ['images', 'import', file]));
        return;
      }
      // Re-written as an OCI layout whose ref is NAME's tag, imported under NAME's repository: the name is exactly NAME.
      const { readImageArchive, writeLayoutTar, splitImageName, importImageTar } = await import('../agent/images/index.js');
      const work = await mkdtemp(join(tmpdir(), 'bosun-image-'));
      try {
        const tar = join(work, 'image.tar');
        await writeFile(tar, writeLayoutTar(await readImageArchive(file), splitImageName(name).tag));
        await importImageTar({ socketPath }, tar, name);
      } finally {
        await rm(work, { recursive: true, force: true });
      }
      console.log(`${name}: imported`);
      return;
    }
    case 'busybox': {
      const [file] = positionals;
      if (!file) throw new Error(`bosun image busybox FILE.tar\n\n${IMAGE_USAGE}`);
      const { buildBusyboxImageTar, BUSYBOX_IMAGE } = await import('../agent/images/index.js');
      await buildBusyboxImageTar(file, { name: values.name ?? BUSYBOX_IMAGE });
      console.log(`${file}: busybox image (${values.name ?? BUSYBOX_IMAGE})`);
      return;
    }
    default:
      process.stdout.write(IMAGE_USAGE);
      if (verb && verb !== 'help' && verb !== '--help') process.exitCode = 2;
  }
}
