// undici's own modules, imported one by one (src/http/undici.ts): each is CommonJS whose module.exports
// is the class or function that undici's index re-exports under the name given here.
declare module "undici/lib/dispatcher/env-http-proxy-agent.js" {
  import { EnvHttpProxyAgent } from "undici";
  export default EnvHttpProxyAgent;
}
declare module "undici/lib/core/connect.js" {
  import { buildConnector } from "undici";
  export default buildConnector;
}
declare module "undici/lib/dispatcher/dispatcher.js" {
  import { Dispatcher } from "undici";
  export default Dispatcher;
}
declare module "undici/lib/api/index.js" {
  /** Dispatcher's request methods (request, stream, pipeline, upgrade, connect), which undici's index attaches to Dispatcher.prototype. */
  const api: Record<string, unknown>;
  export default api;
}
declare module "undici/lib/dispatcher/pool.js" {
  import { Pool } from "undici";
  export default Pool;
}
declare module "undici/lib/dispatcher/client.js" {
  import { Client } from "undici";
  export default Client;
}
