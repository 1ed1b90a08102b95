// Holds the test index server's answers to some requests until the test opens the gate, so a test can
// catch mpip at an exact moment (in the middle of a download, holding its lock) without guessing at
// timing. The route's handler is wrapped in place and restored by `restore()`.

import type { IndexServer } from "./index-server.js";

export interface Gate {
  /** Resolves when a held request has arrived. */
  arrived: Promise<void>;
  /** Lets every held request (and later ones) through. */
  open(): void;
  /** Opens the gate and puts the route's handler back. */
  restore(): void;
}

export function holdRequests(server: IndexServer, routeName: string, matches: (path: string) => boolean): Gate {
  const route = server.routes.find((candidate) => candidate.name === routeName);
  if (route === undefined) throw new Error(`the index server has no route named ${routeName}`);
  const original = route.handle;
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  let arrive!: () => void;
  const arrived = new Promise<void>((resolve) => (arrive = resolve));
  route.handle = async (ctx) => {
    if (matches(ctx.path)) {
      arrive();
      await opened;
    }
    return original.call(route, ctx);
  };
  return {
    arrived,
    open,
    restore() {
      open();
      route.handle = original;
    },
  };
}
