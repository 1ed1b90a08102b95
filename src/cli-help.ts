// The entry of dist/mpip-help.cjs (scripts/bundle.mjs): the command line without any command's work, which
// bin/mpip.js loads instead of the whole CLI (dist/mpip.cjs) for a run that asks for help. It holds
// commander, the commands' options and the few modules that print help and usage errors: about an eighth
// of the whole, which a run loads and compiles in that proportion less time. It never runs a command: when
// the command line asks for one's work after all, `helpOnly` says so and bin/mpip.js hands the run to the
// whole CLI, which parses it again from the start. So no state (the credentials secrets.ts keeps for
// redaction, the reporter) is ever shared between the two bundles' copies of a module.

export { helpOnly } from "./cli.js";
