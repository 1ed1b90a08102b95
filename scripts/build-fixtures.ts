// Writes the demo sdists of scripts/fixtures-spec.ts into fixtures/.
//   node --import tsx scripts/build-fixtures.ts           (re)write them
//   node --import tsx scripts/build-fixtures.ts --check   exit 1 if a committed fixture is missing or differs
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { buildFixtures, FIXTURES_DIR } from "./fixtures-spec.js";

export interface FixtureDiff {
  file: string;
  problem: "missing" | "content differs" | "same tar, different gzip stream";
}

/** Compares the committed fixtures with freshly built ones. */
export async function checkFixtures(dir = FIXTURES_DIR): Promise<FixtureDiff[]> {
  const diffs: FixtureDiff[] = [];
  for (const [file, built] of await buildFixtures()) {
    let committed: Buffer;
    try {
      committed = await readFile(path.join(dir, file));
    } catch {
      diffs.push({ file, problem: "missing" });
      continue;
    }
    if (committed.equals(built)) continue;
    let sameTar = false;
    try {
      sameTar = gunzipSync(committed).equals(gunzipSync(built));
    } catch {
      // not even gzip
    }
    // "same tar" means only the deflate encoder differs (e.g. another zlib build in another Node version).
    diffs.push({ file, problem: sameTar ? "same tar, different gzip stream" : "content differs" });
  }
  return diffs;
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes("--check")) {
    const diffs = await checkFixtures();
    for (const d of diffs) console.error(`fixtures/${d.file}: ${d.problem}`);
    if (diffs.length > 0) {
      console.error("run `node --import tsx scripts/build-fixtures.ts` to rebuild them");
      return 1;
    }
    console.log("fixtures are up to date");
    return 0;
  }
  await mkdir(FIXTURES_DIR, { recursive: true });
  for (const [file, bytes] of await buildFixtures()) {
    await writeFile(path.join(FIXTURES_DIR, file), bytes);
    console.log(`wrote fixtures/${file} (${bytes.length} bytes)`);
  }
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
