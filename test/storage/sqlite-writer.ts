/**
 * Child process for the kill -9 durability test: writes keys to the SQLite
 * store given as argv[2] from several concurrent writers (so group commit
 * batches them) and prints `key revision` for every acknowledged create, until
 * it is killed.
 */
import { openSqliteStore } from '../../src/storage/sqlite/sqlite-store.js';

const path = process.argv[2];
if (path === undefined) throw new Error('usage: sqlite-writer.ts DB');
// Never outlive the test: stop when the parent goes away (stdout breaks) or
// after a minute at most.
process.stdout.on('error', () => process.exit(1));
setTimeout(() => process.exit(2), 60_000).unref();
const store = await openSqliteStore({ path, compaction: false });
const writers = 16;
let n = 0;
await Promise.all(
  Array.from({ length: writers }, async () => {
    for (;;) {
      const key = `/durability/${process.pid}/${String(n++).padStart(8, '0')}`;
      const kv = await store.create(key, `value-of-${key}`);
      process.stdout.write(`${kv.key} ${kv.modRevision}\n`);
    }
  }),
);
