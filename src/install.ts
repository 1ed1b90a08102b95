// `mpip install`: plan → prepare → install. Resolve the graph while fetching and unpacking each
// release into a staging folder, then commit the staged files into the target all at once.

import path from "node:path";
import { MpipError } from "./errors.js";
import { HttpClient, redactUrl } from "./http.js";
import type { Reporter } from "./log.js";
import { Pool } from "./pool.js";
import { unpackSdist } from "./archive/unpack.js";
import { caseClashWarnings } from "./archive/case-fold.js";
import { DEFAULT_LIMITS, type Limits } from "./limits.js";
import { SMALL_WINDOW } from "./archive/gzip-scan.js";
import { fetchFile } from "./fetch.js";
import type { Placement } from "./image/commit.js";
import { asInterrupted } from "./image/interrupt.js";
import { TargetSession } from "./image/session.js";
import { resolve, type Request, type ResolvedPackage } from "./resolve/resolve.js";
import { FindLinksSource } from "./sources/find-links.js";
import { PypiJsonSource } from "./sources/pypi-json.js";
import type { Source } from "./sources/types.js";
import { parseRequiresDist, parseRequiresTxt } from "./spec/requires.js";
import type { Requirement } from "./spec/requirement.js";

export const DEFAULT_INDEXES = ["https://micropython.org/pi", "https://pypi.org/pypi"];
export const DEFAULT_JOBS = 16;

export interface InstallOptions {
  target: string;
  requests: Request[];
  indexUrls: string[];
  findLinks: string[];
  noDeps: boolean;
  pre: boolean;
  strictWindow: boolean;
  jobs: number;
  timeoutMs?: number;
  /** Retries for temporary network failures (default 3). */
  retries?: number;
  /** A PEM bundle of extra certificate authorities (`--cert`). */
  certFile?: string;
  /** Wait for another mpip installing into the same target (default), or fail at once (`--no-wait`). */
  wait?: boolean;
  /** Aborting it stops the install, leaving the target as it was (the CLI aborts it on SIGINT/SIGTERM). */
  signal?: AbortSignal;
  /** Limits against bombs and oversized input (`--max-*` options); each defaults to DEFAULT_LIMITS. */
  limits?: Partial<Limits>;
  reporter: Reporter;
}

export interface InstalledPackage {
  name: string;
  version: string;
  source: string;
  url: string;
  filename: string;
  sha256: string;
  requestedBy: string[];
  /** Whether a device with a 4 KiB inflate window can unpack the archive. */
  smallWindow: boolean;
  files: string[];
}

export interface InstallReport {
  target: string;
  packages: InstalledPackage[];
  warnings: string[];
}

interface Staged {
  dir: string;
  files: string[];
  sha256: string;
  origin: string;
  smallWindow: boolean;
  /** Said after resolution, in plan order, so output does not depend on network timing. */
  warnings: string[];
}

export async function install(options: InstallOptions): Promise<InstallReport> {
  const { reporter } = options;
  const target = path.resolve(options.target);
  const limits: Limits = { ...DEFAULT_LIMITS, ...options.limits };
  const http = new HttpClient({
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    ...(options.retries === undefined ? {} : { retries: options.retries }),
    ...(options.certFile === undefined ? {} : { certFile: options.certFile }),
    log: (message) => reporter.detail(message),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    trustedHosts: options.indexUrls.flatMap((url) => {
      try {
        return [new URL(url).hostname];
      } catch {
        return [];
      }
    }),
  });
  const sources: Source[] = [
    ...options.findLinks.map((folder) => new FindLinksSource(folder)),
    ...options.indexUrls.map((url) => new PypiJsonSource(url, http, { maxMetadataBytes: limits.maxMetadataBytes })),
  ];
  const image = await TargetSession.open(target, { wait: options.wait ?? true, reporter, ...(options.signal === undefined ? {} : { signal: options.signal }) });
  const { staging } = image;
  try {
    const resolved = await resolve<Staged>(options.requests, {
      sources,
      pool: new Pool(options.jobs),
      pre: options.pre,
      noDeps: options.noDeps,
      onProgress: ({ resolved: count, pending }) => reporter.progress(`Resolving: ${count} packages ready, ${pending} in progress`),
      prepare: async (release) => {
        options.signal?.throwIfAborted();
        const label = `\`${release.name} ${release.version}\` (\`${release.file.filename}\`)`;
        const fetched = await fetchFile(release.file, http, label);
        const dir = staging.packageDir(release.key);
        options.signal?.throwIfAborted();
        const unpacked = await unpackSdist(fetched.data, dir, label, limits);
        const smallWindow = unpacked.maxDistance <= SMALL_WINDOW;
        const warnings = smallWindow ? [] : [windowProblem(label, unpacked.maxDistance, options.strictWindow)];
        return {
          dependencies: dependenciesOf(unpacked.requiresTxt, unpacked.pkgInfo, label),
          value: { dir, files: unpacked.files, sha256: fetched.sha256, origin: fetched.origin, smallWindow, warnings },
        };
      },
    });
    reporter.clearProgress();
    for (const node of resolved) {
      reporter.detail(`${node.name} ${node.version} from ${node.prepared.origin} (sha256 ${node.prepared.sha256})`);
      for (const warning of node.prepared.warnings) reporter.warn(warning);
    }
    await image.commit(placements(resolved, reporter));
    return { target, packages: resolved.map(describe), warnings: reporter.warnings };
  } catch (error) {
    reporter.clearProgress();
    throw asInterrupted(error, options.signal, target);
  } finally {
    await image.close();
    await http.close();
  }
}

function windowProblem(label: string, distance: number, strict: boolean): string {
  const message = `${label} needs a ${distance > 8192 ? "32" : "larger than 4"} KiB inflate window (it refers back ${distance} bytes): it cannot be installed on a small device`;
  if (strict) {
    throw new MpipError("archive-window", message, {
      hint: "recompress it with a 4 KiB window (`mpip repack`, or sdist_upip), or drop --strict-window to install it on the host anyway",
    });
  }
  return `${message}; installed anyway`;
}

function dependenciesOf(requiresTxt: string | undefined, pkgInfo: string | undefined, label: string): Requirement[] {
  try {
    if (requiresTxt !== undefined) return parseRequiresTxt(requiresTxt);
    if (pkgInfo !== undefined) return parseRequiresDist(pkgInfo);
    return [];
  } catch (error) {
    if (error instanceof MpipError) throw new MpipError(error.code, `in the dependencies of ${label}: ${error.message}`, { cause: error, ...(error.hint ? { hint: error.hint } : {}) });
    throw error;
  }
}

/** Files in plan order; where two packages ship the same path the later one wins, as with upip. */
function placements(resolved: Array<ResolvedPackage<Staged>>, reporter: Reporter): Placement[] {
  const owner = new Map<string, { placement: Placement; name: string }>();
  for (const node of resolved) {
    for (const file of node.prepared.files) {
      const previous = owner.get(file);
      if (previous !== undefined) reporter.warn(`\`${file}\` is in both \`${previous.name}\` and \`${node.name}\`; the copy from \`${node.name}\` is installed`);
      owner.set(file, { placement: { from: path.join(node.prepared.dir, file), to: file }, name: node.name });
    }
  }
  for (const warning of caseClashWarnings(resolved.map((node) => ({ name: node.name, files: node.prepared.files })))) reporter.warn(warning);
  return [...owner.values()].map((entry) => entry.placement);
}

function describe(node: ResolvedPackage<Staged>): InstalledPackage {
  return {
    name: node.name,
    version: node.version,
    source: node.source,
    url: node.file.location.type === "remote" ? redactUrl(node.file.location.url) : node.file.location.path,
    filename: node.file.filename,
    sha256: node.prepared.sha256,
    requestedBy: node.requests.map((request) => request.requestedBy),
    smallWindow: node.prepared.smallWindow,
    files: node.prepared.files,
  };
}
