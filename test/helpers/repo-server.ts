// Raw-file routes like the three forges behind mip's shorthands, added to a started test server:
// GitHub's raw host `/{org}/{repo}/{ref}/{path}`, GitLab's `/{org}/{repo}/-/raw/{ref}/{path}` and
// Codeberg's `/api/v1/repos/{org}/{repo}/raw/{path}?ref={ref}`, each under its own prefix so one
// server plays all three. `HEAD` (and Codeberg without `?ref=`) means the repo's default branch.
// GitLab projects may sit inside subgroups: add one with `org` = "group/subgroup".
import type { GitHosts } from "../../src/sources/git-hosts.js";
import { notFound, type IndexServer, type Reply, type Route } from "./index-server.js";

export type Forge = "github" | "gitlab" | "codeberg";

export interface RepoServer {
  /** Point `github:`/`gitlab:`/`codeberg:` here (e.g. through MPIP_GITHUB_URL and friends). */
  hosts: GitHosts;
  /**
   * Adds (or replaces) the files of `ref` in a repo. The first ref added to a repo is its default
   * branch, unless `options.default` names another one later.
   */
  addRepo(forge: Forge, org: string, repo: string, ref: string, files: Record<string, string | Buffer>, options?: { default?: boolean }): void;
}

interface Repo {
  defaultRef: string;
  refs: Map<string, Map<string, Buffer>>;
}

const PREFIX: Record<Forge, string> = { github: "gh", gitlab: "gl", codeberg: "cb" };

export function serveRepos(server: IndexServer): RepoServer {
  const repos = new Map<string, Repo>();
  const find = (forge: Forge, org: string, repo: string) => repos.get(`${forge}/${decodeURIComponent(org)}/${decodeURIComponent(repo)}`);

  /** `{ref}/{path}` where the ref may itself contain `/`: the longest known ref wins, as on GitHub. */
  const fileAt = (repo: Repo | undefined, rest: string): Reply => {
    if (repo === undefined) return notFound();
    const segments = rest.split("/").map(decodeURIComponent);
    for (let cut = segments.length - 1; cut >= 1; cut--) {
      const ref = segments.slice(0, cut).join("/");
      const files = repo.refs.get(ref === "HEAD" ? repo.defaultRef : ref);
      if (files !== undefined) return reply(files.get(segments.slice(cut).join("/")));
    }
    return notFound();
  };

  const routes: Route[] = [
    {
      name: "github-raw",
      pattern: /^\/gh\/([^/]+)\/([^/]+)\/(.+)$/,
      handle: ({ match }) => fileAt(find("github", match[1]!, match[2]!), match[3]!),
    },
    {
      name: "gitlab-raw",
      // The project's path is everything before `/-/`, subgroups included.
      pattern: /^\/gl\/((?:[^/]+\/)*?[^/]+)\/([^/]+)\/-\/raw\/(.+)$/,
      handle: ({ match }) => fileAt(find("gitlab", match[1]!.split("/").map(decodeURIComponent).join("/"), match[2]!), match[3]!),
    },
    {
      name: "codeberg-raw",
      pattern: /^\/cb\/api\/v1\/repos\/([^/]+)\/([^/]+)\/raw\/(.+)$/,
      handle({ match, req }) {
        const repo = find("codeberg", match[1]!, match[2]!);
        if (repo === undefined) return notFound();
        const asked = new URL(req.url ?? "/", "http://x").searchParams.get("ref") ?? "HEAD";
        const files = repo.refs.get(asked === "HEAD" ? repo.defaultRef : asked);
        return files === undefined ? notFound() : reply(files.get(match[3]!.split("/").map(decodeURIComponent).join("/")));
      },
    },
  ];
  server.routes.push(...routes);

  const base = (forge: Forge) => `${server.origin}/${PREFIX[forge]}`;
  return {
    hosts: { github: base("github"), gitlab: base("gitlab"), codeberg: base("codeberg") },
    addRepo(forge, org, repo, ref, files, options = {}) {
      const key = `${forge}/${org}/${repo}`;
      const state = repos.get(key) ?? { defaultRef: ref, refs: new Map() };
      if (options.default === true) state.defaultRef = ref;
      state.refs.set(ref, new Map(Object.entries(files).map(([path, body]) => [path, Buffer.from(body)])));
      repos.set(key, state);
    },
  };
}

/** Raw hosts serve every file as text/plain, whatever it holds. */
function reply(body: Buffer | undefined): Reply {
  if (body === undefined) return notFound();
  return { status: 200, headers: { "Content-Type": "text/plain; charset=utf-8" }, body };
}
