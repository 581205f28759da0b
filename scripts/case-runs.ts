/**
 * The shape `npm run bench` (bench/main.ts) and `npm run chaos` (chaos/main.ts) share:
 * 1. `[--quick] [name …]`: the cases named (in any case of letters), every case when none is;
 *    a name that is none of them lists the real ones and exits 2;
 * 2. the results in `<dir>/<YYYY-MM-DD>.json` (`quick.json` with --quick), where a run of some
 *    cases replaces only their entries and keeps the other cases' entries of that day.
 * What a case is, how it runs and what a results file holds stay each runner's own. It lives
 * in scripts/, with the repository's other command-line tools, so neither bench/ nor chaos/
 * imports the other; a lib would ship it in every app's image.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** `--quick`, and the cases the command line names, in the order of `all`. */
export function chooseCases<Case>(
  all: readonly Case[],
  nameOf: (c: Case) => string,
  noun: string,
  args = process.argv.slice(2),
): { quick: boolean; chosen: Case[] } {
  const quick = args.includes('--quick');
  const named = args.filter((arg) => arg !== '--quick');
  const known = new Set(named.map((arg) => arg.toLowerCase()));
  const unknown = named.filter(
    (arg) => !all.some((c) => nameOf(c).toLowerCase() === arg.toLowerCase()),
  );
  if (unknown.length > 0) {
    console.error(
      `unknown ${noun}(s) ${unknown.join(', ')}; the ${noun}s are ${all.map(nameOf).join(', ')}`,
    );
    process.exit(2);
  }
  const chosen = all.filter((c) => named.length === 0 || known.has(nameOf(c).toLowerCase()));
  return { quick, chosen };
}

/**
 * Write the day's results file (`quick.json` with --quick) in `dir`: `document(entries)`, where
 * `entries` are the file's earlier entries (read from its `field`) of the cases this run did
 * not run, then `fresh`. Resolves with the file's path.
 */
export async function writeResults<Entry>(options: {
  dir: string;
  quick: boolean;
  field: string;
  fresh: Entry[];
  caseOf: (entry: Entry) => string | undefined;
  document: (entries: Entry[]) => object;
}): Promise<string> {
  const { dir, fresh, caseOf } = options;
  const file = join(dir, `${options.quick ? 'quick' : new Date().toISOString().slice(0, 10)}.json`);
  await mkdir(dir, { recursive: true });
  // No file yet (or one that does not parse): nothing to keep.
  const earlier: Entry[] = await readFile(file, 'utf8')
    .then((text) => JSON.parse(text)[options.field] ?? [])
    .catch(() => []);
  const ran = new Set(fresh.map(caseOf));
  const kept = earlier.filter((entry) => {
    const name = caseOf(entry);
    return name !== undefined && !ran.has(name);
  });
  const text = JSON.stringify(options.document([...kept, ...fresh]), null, 2);
  await writeFile(file, `${text}\n`);
  return file;
}
