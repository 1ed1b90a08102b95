// A micropython-lib v2 index (what `mip` reads), built in memory the way micropython-lib's
// tools/build.py lays out its --output folder, and served statically from a test index server.
// Each `publish` is one build.py run over one package's manifest:
// - every .py file is "tagged" (`__version__ = '<version>'` appended unless the file defines one) and
//   stored at `file/{h[:2]}/{h}`, h being the first `hashLength` hex digits of its sha256; the .mpy
//   flavor stores the compiled tagged source under the same dest with `.py` → `.mpy`;
// - `package/{py|mpy}/{name}/latest.json` is replaced, `{version}.json` written only the first time;
//   both minified as Python's json.dump(separators=(",", ":")) writes them, plus a newline;
// - index.json (indent 2, packages sorted by name) gets the new version appended per flavor.
// Old manifests `require()`d other packages, which inlined their files into the requiring package's
// `hashes` (`inline`); newer documents name dependencies in `deps` instead. build.py itself never writes
// `urls` or `deps`; third-party v2 indexes do, so `publish` can.
import { createHash } from "node:crypto";
import { jsonReply, notFound, type IndexServer, type Reply } from "./index-server.js";

export type MipDocument = { v: number; hashes: Array<[string, string]>; urls?: Array<[string, string]>; deps?: Array<[string, string]>; version: string };

export interface MipIndexEntry {
  name: string;
  version: string;
  author: string;
  description: string;
  license: string;
  versions: Record<string, string[]>;
  path: string;
}

export interface MipPackageSpec {
  name: string;
  /** "" publishes an unversioned package, as build.py does for a manifest without a version. */
  version: string;
  /** Destination (a `.py` path, as build.py requires) → source text. */
  files: Record<string, string>;
  /** Names of packages published earlier whose files (from their latest publish) are inlined, recursively. */
  inline?: string[];
  deps?: Array<[string, string]>;
  urls?: Array<[string, string]>;
  description?: string;
  license?: string;
  /** false: sources only (no .mpy documents, no `versions[mpy]`), as for a package only an older build has compiled. */
  mpy?: boolean;
}

export type Compile = (source: string, fileName: string) => Promise<Uint8Array>;

export interface MipIndexOptions {
  /** Where the index lives on the server; default "/mip/v2". */
  prefix?: string;
  /** build.py's --hash-prefix; default 8. */
  hashLength?: number;
  /** The .mpy flavor's folder name (the mpy-cross major version); default "6". */
  mpyVersion?: string;
  /** Turns a tagged source into .mpy bytes; default `compileSource` from src/mpy/compile.ts. */
  compile?: Compile;
}

export type Flavor = "py" | "mpy";

export interface MipIndex {
  /** The index URL to give mpip, e.g. http://127.0.0.1:PORT/mip/v2 (no trailing slash). */
  readonly base: string;
  readonly mpyVersion: string;
  /** The output folder as build.py leaves it: relative path → bytes. Served as is. */
  readonly tree: Map<string, Buffer>;
  publish(spec: MipPackageSpec): Promise<{ py: MipDocument; mpy?: MipDocument }>;
  /** The parsed index.json as last written. */
  index(): { v: number; updated: number; packages: MipIndexEntry[] };
  documentPath(flavor: Flavor, name: string, version?: string): string;
  document(flavor: Flavor, name: string, version?: string): MipDocument | undefined;
  /** The short hash a published document gives `dest`. */
  hashOf(flavor: Flavor, name: string, dest: string, version?: string): string;
  fileUrl(shortHash: string): string;
  /** Serve other bytes under a hashed name: a download that no longer matches its hash. */
  corruptFile(shortHash: string, bytes?: Uint8Array | string): void;
  /** A document names a file the index no longer has. */
  removeFile(shortHash: string): void;
  /** index.json is no longer written nor served (a self-hosted index without one); documents still are. */
  removeIndex(): void;
  /** Put raw bytes (a string, or a value serialized as JSON) at a path of the tree, e.g. a hand-made document. */
  setRaw(path: string, body: string | Uint8Array | object): void;
}

export function serveMipIndex(server: IndexServer, options: MipIndexOptions = {}): MipIndex {
  const prefix = `/${(options.prefix ?? "/mip/v2").replace(/^\/+|\/+$/g, "")}`;
  const hashLength = options.hashLength ?? 8;
  const mpyVersion = options.mpyVersion ?? "6";
  const compile = options.compile ?? defaultCompile;
  const tree = new Map<string, Buffer>();
  const index = { v: 2, updated: 0, packages: [] as MipIndexEntry[] };
  const latestSpecs = new Map<string, MipPackageSpec>();
  let writeIndex = true;

  const flavorDir = (flavor: Flavor) => (flavor === "py" ? "py" : mpyVersion);
  const documentPath = (flavor: Flavor, name: string, version = "latest") => `package/${flavorDir(flavor)}/${name}/${version}.json`;

  const storeHashed = (name: string, dest: string, bytes: Buffer): string => {
    const hash = createHash("sha256").update(bytes).digest("hex").slice(0, hashLength);
    const path = `file/${hash.slice(0, 2)}/${hash}`;
    const existing = tree.get(path);
    // build.py stops on a collision of short hashes; files are never removed or replaced.
    if (existing !== undefined && !existing.equals(bytes)) throw new Error(`hash collision publishing ${name}: ${dest} (${hash}); increase hashLength`);
    tree.set(path, bytes);
    return hash;
  };

  const updateIndex = (spec: MipPackageSpec) => {
    let entry = index.packages.find((p) => p.name === spec.name);
    if (entry === undefined) {
      entry = { name: spec.name } as MipIndexEntry;
      index.packages.push(entry);
    }
    Object.assign(entry, { version: spec.version, author: "", description: spec.description ?? "", license: spec.license ?? "MIT" });
    entry.versions ??= {};
    if (spec.version !== "") {
      for (const flavor of spec.mpy === false ? ["py"] : ["py", mpyVersion]) {
        const listed = (entry.versions[flavor] ??= []);
        if (!listed.includes(spec.version)) listed.push(spec.version);
      }
    }
    entry.path = `micropython/${spec.name}`;
    index.packages.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    index.updated = Math.floor(Date.now() / 1000);
    if (writeIndex) tree.set("index.json", Buffer.from(`${pythonJson(index, 2)}\n`));
  };

  const writeDocument = (flavor: Flavor, spec: MipPackageSpec, document: MipDocument) => {
    const body = Buffer.from(`${pythonJson(document)}\n`);
    tree.set(documentPath(flavor, spec.name), body);
    const versioned = documentPath(flavor, spec.name, spec.version);
    // "A package version is locked the first time it's seen by this script."
    if (spec.version !== "" && !tree.has(versioned)) tree.set(versioned, body);
  };

  const mip: MipIndex = {
    base: `${server.origin}${prefix}`,
    mpyVersion,
    tree,
    async publish(spec) {
      const files = manifestFiles(spec, latestSpecs);
      const py: MipDocument = { v: 1, hashes: [], version: spec.version };
      const mpy: MipDocument = { v: 1, hashes: [], version: spec.version };
      for (const file of files) {
        const tagged = tag(file.source, file.version);
        if (spec.mpy !== false) {
          const compiled = Buffer.from(await compile(tagged, file.dest));
          mpy.hashes.push([`${file.dest.slice(0, -2)}mpy`, storeHashed(spec.name, file.dest, compiled)]);
        }
        py.hashes.push([file.dest, storeHashed(spec.name, file.dest, Buffer.from(tagged))]);
      }
      for (const document of [py, mpy]) addExtras(document, spec);
      updateIndex(spec);
      if (spec.mpy !== false) writeDocument("mpy", spec, mpy);
      writeDocument("py", spec, py);
      latestSpecs.set(spec.name, spec);
      return spec.mpy === false ? { py } : { py, mpy };
    },
    index: () => structuredClone(index),
    documentPath,
    document(flavor, name, version) {
      const body = tree.get(documentPath(flavor, name, version));
      return body === undefined ? undefined : (JSON.parse(body.toString("utf8")) as MipDocument);
    },
    hashOf(flavor, name, dest, version) {
      const hash = mip.document(flavor, name, version)?.hashes.find(([d]) => d === dest)?.[1];
      if (hash === undefined) throw new Error(`no ${dest} in ${documentPath(flavor, name, version)}`);
      return hash;
    },
    fileUrl: (hash) => `${mip.base}/file/${hash.slice(0, 2)}/${hash}`,
    corruptFile(hash, bytes) {
      const path = `file/${hash.slice(0, 2)}/${hash}`;
      const old = tree.get(path);
      if (old === undefined) throw new Error(`no hashed file ${hash}`);
      tree.set(path, bytes === undefined ? Buffer.concat([old, Buffer.from("\n# tampered\n")]) : Buffer.from(bytes));
    },
    removeFile(hash) {
      if (!tree.delete(`file/${hash.slice(0, 2)}/${hash}`)) throw new Error(`no hashed file ${hash}`);
    },
    removeIndex() {
      writeIndex = false;
      tree.delete("index.json");
    },
    setRaw(path, body) {
      tree.set(path, typeof body === "string" || body instanceof Uint8Array ? Buffer.from(body) : Buffer.from(JSON.stringify(body)));
    },
  };

  server.routes.push(
    route("mip-index", prefix, /^\/(index\.json)$/, tree),
    route("mip-package", prefix, /^\/(package\/[^/]+\/[^/]+\/[^/]+\.json)$/, tree),
    route("mip-file", prefix, /^\/(file\/[0-9a-f]{2}\/[0-9a-f]+)$/, tree),
  );
  return mip;
}

/** A static file server's answer for one kind of path (named, so tests can `fault()` it). */
function route(name: string, prefix: string, pattern: RegExp, tree: Map<string, Buffer>) {
  const full = new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}${pattern.source.slice(1)}`);
  return {
    name,
    pattern: full,
    handle({ match }: { match: RegExpExecArray }): Reply {
      const path = match[1]!.split("/").map(decodeURIComponent).join("/");
      const body = tree.get(path);
      if (body === undefined) return notFound();
      return path.endsWith(".json") ? { ...jsonReply(200, null), body } : { status: 200, headers: { "Content-Type": "application/octet-stream" }, body };
    },
  };
}

type ManifestFile = { dest: string; source: string; version: string };

/** The files a manifest yields: those of `require()`d (inlined) packages first, then its own. */
function manifestFiles(spec: MipPackageSpec, published: Map<string, MipPackageSpec>, seen = new Set<string>()): ManifestFile[] {
  seen.add(spec.name);
  const files: ManifestFile[] = [];
  for (const name of spec.inline ?? []) {
    const required = published.get(name);
    if (required === undefined) throw new Error(`${spec.name} inlines ${name}, which has not been published`);
    if (!seen.has(name)) files.push(...manifestFiles(required, published, seen));
  }
  for (const [dest, source] of Object.entries(spec.files)) {
    if (!dest.endsWith(".py")) throw new Error(`Target path isn't a .py file: ${dest}`);
    files.push({ dest, source, version: spec.version });
  }
  return files.filter((file, at) => files.findIndex((other) => other.dest === file.dest) === at);
}

/** manifestfile.tagged_py_file: the file's own package version, appended unless the file sets one. */
function tag(source: string, version: string): string {
  if (version === "" || source.includes("__version__ =")) return source;
  return `${source}\n\n__version__ = ${pythonRepr(version)}\n`;
}

function addExtras(document: MipDocument, spec: MipPackageSpec): void {
  const { version } = document;
  delete (document as Partial<MipDocument>).version; // keep build.py's key order: v, hashes, (urls, deps), version
  if (spec.urls !== undefined) document.urls = spec.urls;
  if (spec.deps !== undefined) document.deps = spec.deps;
  document.version = version;
}

function pythonRepr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  return `${quote}${text.replace(/\\/g, "\\\\").replace(new RegExp(quote, "g"), `\\${quote}`)}${quote}`;
}

/** Python's json.dump: ensure_ascii, and `indent` with ", "/": " or minified with ","/":" (JSON.stringify's). */
function pythonJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, null, indent).replace(/[\u0080-\uffff]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

async function defaultCompile(source: string, fileName: string): Promise<Uint8Array> {
  // Loaded on first use: the .mpy compiler is another module's, and py-only indexes never need it.
  const module = (await import(new URL("../../src/mpy/compile.js", import.meta.url).href)) as { compileSource: Compile };
  return module.compileSource(source, fileName);
}
