// `mpip index build`: turn a folder of packages into a static index, written into one output folder as
// three faces of the same releases (README "Publishing"): a micropython-lib v2 index at its root (sources
// in `package/py/`, .mpy files compiled by the built-in mpy-cross in `package/6/`, content-addressed
// `file/HH/HASH`), the PyPI JSON API under `pypi/` and the simple API under `simple/`, with the sdists in
// `sdist/`. Inputs are read as install reads them (inputs.ts); the folder is changed like a target: under
// its lock, staged beside it and committed all at once, published files never rewritten (folder.ts).

import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { RunScope } from "../cancel.js";
import { asInterrupted } from "../image/interrupt.js";
import { TargetSession } from "../image/session.js";
import { openSources, prepareContext } from "../install.js";
import { DEFAULT_LIMITS, type Limits } from "../limits.js";
import type { Reporter } from "../log.js";
import { compileTree, wasmCompiler } from "../mpy/compile.js";
import { allowManyListeners } from "../signals.js";
import { gitHostsFromEnv } from "../sources/git-hosts.js";
import { MpipError } from "../errors.js";
import { printable, quantity } from "../text.js";
import { parseUrl } from "../url.js";
import { planIndexFolder, type IndexRelease } from "./folder.js";
import { classifyInput, readInputs, type PublishedRelease } from "./inputs.js";
import { sha256Hex } from "../image/fs-ops.js";

/** The .mpy flavor the build compiles to: what the built-in mpy-cross emits (MicroPython 1.19 and later). */
export const MPY_FLAVOR = "6";

export interface IndexBuildOptions {
  /** sdists (`.tar.gz`), project folders and package.json folders, as paths (relative to `cwd`). */
  sources: string[];
  /** The folder to write the index into, relative to `cwd` (created if missing; an earlier build there is added to). */
  output: string;
  /** Makes the PyPI and simple faces' file URLs absolute below it; relative otherwise. */
  baseUrl?: string;
  cwd?: string;
  jobs: number;
  signal?: AbortSignal;
  limits?: Partial<Limits>;
  reporter: Reporter;
}

export interface IndexBuildReport {
  output: string;
  /** The releases published by this run, in input order, with the paths of the folder that hold each. */
  releases: Array<{ name: string; version: string; source: string; files: string[] }>;
  /** Paths of the folder this run wrote (new files, and the listings it changed). */
  written: string[];
  /** Paths of the folder that already held what was needed. */
  unchanged: string[];
  warnings: string[];
}

/**
 * `--base-url` as the faces write it: the URL as WHATWG's parser (browsers, mpip) serializes it, without
 * its trailing slashes (`HTTPS://CDN.example:443/mp/` is `https://cdn.example/mp`). The text must be an
 * http or https URL that every client reads as that same URL: no credentials, query or fragment (not even
 * an empty `?` or `#`, which would swallow the file paths appended to it), and no backslash, white space or
 * control character, which parsers read differently (`https://cdn.example\@evil.example/` is a path of
 * cdn.example to a browser and the host evil.example to Python's urllib).
 * @throws MpipError `usage`.
 */
export function indexBaseUrl(text: string): string {
  const url = parseUrl(text);
  const unclear = /[\\?#\s\0-\x1f\x7f]/.exec(text)?.[0];
  if (url === undefined || (url.protocol !== "http:" && url.protocol !== "https:") || url.username !== "" || url.password !== "" || /^[a-z][a-z0-9+.-]*:\/\/[^/]*@/i.test(text) || unclear !== undefined) {
    const why = unclear !== undefined ? ` (it holds ${JSON.stringify(unclear)})` : "";
    throw new MpipError("usage", `\`${printable(text)}\` (given with --base-url) is not an http or https URL without credentials, query, fragment, backslashes or spaces${why}`, {
      hint: "give the URL the output folder will be served at, percent-encoded, e.g. `--base-url https://example.com/mpip-index`",
    });
  }
  return url.href.replace(/\/+$/, "");
}

/**
 * Builds (or adds to) the static index at `options.output` from `options.sources` (see the module comment).
 * @throws MpipError `usage` for a `baseUrl` indexBaseUrl refuses, or an input that is not a local sdist, project or package.json folder; what
 *   install throws for a bad input (`unsafe-path`, `bad-metadata`, `limit-exceeded`, ...); `version-conflict`
 *   for a release published before with other content, or given twice; `locked`/`interrupted`/`io` as for a target.
 */
export async function buildIndex(options: IndexBuildOptions): Promise<IndexBuildReport> {
  const { reporter } = options;
  const cwd = options.cwd ?? process.cwd();
  const spec = { hosts: gitHostsFromEnv(), cwd };
  const baseUrl = options.baseUrl === undefined ? undefined : indexBaseUrl(options.baseUrl);
  const inputs = options.sources.map((source) => classifyInput(source, spec));
  const limits: Limits = { ...DEFAULT_LIMITS, ...options.limits };
  if (options.signal !== undefined) allowManyListeners(options.signal);
  const scope = new RunScope(options.signal);
  const { http } = await openSources({ indexUrls: [], findLinks: [], cwd, reporter }, limits, scope);
  const session = await TargetSession.open(path.resolve(cwd, options.output), { wait: true, operation: "index build", reporter, ...(options.signal === undefined ? {} : { signal: options.signal }) });
  try {
    reporter.progress(`Reading ${quantity(inputs.length, "package")}`);
    const published = await readInputs(inputs, {
      scope,
      spec,
      jobs: options.jobs,
      reporter,
      contextFor: (index, onArchive) => ({
        ...prepareContext({ strictWindow: false, hosts: spec.hosts, cwd }, { http, staging: { packageDir: (key) => session.staging.packageDir(path.join(`input-${index}`, key)) }, limits, scope }),
        onArchive,
      }),
    });
    reporter.progress(`Compiling to .mpy ${MPY_FLAVOR}`);
    // One release after another: compileTree compiles `jobs` files of each at once.
    const releases: IndexRelease[] = [];
    for (const [index, release] of published.entries()) {
      releases.push({ ...release, flavors: [{ flavor: "py", files: release.files }, { flavor: MPY_FLAVOR, files: await compiled(release, session.staging.packageDir(`mpy-${index}`), options, scope) }] });
    }
    reporter.clearProgress();
    for (const release of releases) for (const warning of release.warnings) reporter.warn(warning);
    const plan = await planIndexFolder(session.target, path.join(session.staging.dir, "index"), releases, {
      maxMetadataBytes: limits.maxMetadataBytes,
      ...(baseUrl === undefined ? {} : { baseUrl }),
      warn: (message) => reporter.warn(message),
    });
    if (plan.placements.length > 0) await session.commit(plan.placements);
    return {
      output: session.target,
      releases: releases.map((release, index) => ({ name: release.name, version: release.version, source: release.source, files: plan.paths[index]! })),
      written: plan.written,
      unchanged: plan.unchanged,
      warnings: reporter.warnings,
    };
  } catch (error) {
    reporter.clearProgress();
    throw asInterrupted(error, options.signal, session.target);
  } finally {
    await session.close();
    await http.close();
    scope.dispose();
  }
}

/**
 * The release's files for .mpy firmware, as `mpip install --compile` makes them: each `.py` compiled by
 * the built-in mpy-cross to an `.mpy` in its place (`boot.py` and `main.py` stay source), other files as
 * they are. Written into `dir`, a copy of the staged files.
 */
async function compiled(release: PublishedRelease, dir: string, options: Pick<IndexBuildOptions, "jobs" | "signal">, scope: RunScope): Promise<PublishedRelease["files"]> {
  // Read and written rather than copied: copyFile is not implemented on every filesystem the folder may be on (FUSE FAT: ENOSYS).
  for (const file of release.files) {
    const copy = path.join(dir, ...file.dest.split("/"));
    await mkdir(path.dirname(copy), { recursive: true });
    await writeFile(copy, await readFile(file.file));
  }
  const result = await compileTree(dir, release.files.map((file) => file.dest), { compiler: wasmCompiler(), keepSources: false, jobs: options.jobs, signal: scope.signal });
  const removed = new Set(result.removed);
  const dests = release.files.map((file) => (removed.has(file.dest) ? `${file.dest.slice(0, -".py".length)}.mpy` : file.dest));
  return Promise.all(dests.map(async (dest) => {
    const file = path.join(dir, ...dest.split("/"));
    return { dest, file, sha256: sha256Hex(await readFile(file)) };
  }));
}
