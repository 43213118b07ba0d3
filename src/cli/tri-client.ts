// `tri` for the client commands only (client-command-names.ts), imported statically so the build
// can bundle them with commander and the client library into one file (scripts/bundle-cli.mjs):
// a short-lived `tri memory show` then reads one file instead of resolving about 60 modules.
import { registerClientCommand } from './commands/client-set.js';
import { runAsProcess } from './tri-program.js';

await runAsProcess(registerClientCommand);
