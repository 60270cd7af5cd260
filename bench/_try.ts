import { runIngest } from './sections/ingest.js';
import { stopEverything } from './lib/procs.js';
const r = await runIngest({ redisUrl: 'redis://127.0.0.1:6379', redisPid: 2210, warmupMs: 1500, durationMs: 4000, concurrency: 16, moderateFraction: 0.5, scale: false });
console.log(JSON.stringify(r, null, 1).slice(0, 3000));
await stopEverything();
process.exit(0);
