// `tri` with every command, each module loaded only when its command runs (commands/index.ts).
import { registerCommands } from './commands/index.js';
import { runAsProcess } from './tri-program.js';

await runAsProcess(registerCommands);
