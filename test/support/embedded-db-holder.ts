// A separate process holding an embedded database, for the lock tests (run with `node --import tsx`).
// Prints `ready <pid>`; then reads commands from stdin: `open` (answers `opened` or `refused <message as JSON>`),
// `insert <text>` (answers `inserted`), `exit` (exits without closing), `close` or the end of stdin (closes the
// database and exits).
import { createInterface } from 'node:readline';
import { openPglite, type PgliteDatabase } from '../../src/db/index.ts';

const dataDir = process.argv[2];
if (!dataDir) throw new Error('usage: embedded-db-holder.ts <data dir>');
const say = (line: string) => process.stdout.write(`${line}\n`);

let db: PgliteDatabase | null = null;
say(`ready ${process.pid}`);
for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'open') {
    try {
      db = await openPglite({ dataDir });
      await db.exec('create table if not exists kept (v text)');
      say('opened');
    } catch (err) {
      say(`refused ${JSON.stringify((err as Error).message)}`);
    }
  } else if (line.startsWith('insert ')) {
    await db!.query('insert into kept values ($1)', [line.slice('insert '.length)]);
    say('inserted');
  } else if (line === 'exit') {
    process.exit(0);
  } else if (line === 'close') {
    break;
  }
}
await db?.close();
process.stdin.destroy(); // it would keep this process alive
