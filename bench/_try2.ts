import { runActor } from './sections/actor.js';
import { stopEverything } from './lib/procs.js';
const r = await runActor({ redisUrl: 'redis://127.0.0.1:6379', warmupMs: 1000, durationMs: 3000, concurrency: 16, conflictEvents: 400, memoryCalls: 200, scale: true });
console.log(JSON.stringify(r, null, 1));
await stopEverything();
process.exit(0);
