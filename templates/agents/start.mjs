// One command: serve the model, run the agents against it, stop the server.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { runAgents } from './agents.mjs';

// In a pod ("modelship up") the model server is already there: OPENAI_BASE_URL names it.
const external = process.env.OPENAI_BASE_URL;
const serve = external ? undefined : spawn('modelship', ['serve', process.env.MODEL_DIR ?? 'model', '--port', '0', '--json'], { stdio: ['ignore', 'pipe', 'inherit'] });
const url = external ?? JSON.parse(String((await once(serve.stdout, 'data'))[0]).split('\n')[0]).url;
try {
  const { answer, steps } = await runAgents({ baseURL: url, task: process.argv.slice(2).join(' ') || 'How many words are in README.md?' });
  for (const s of steps) console.log(`${s.tool}(${JSON.stringify(s.input)}): ${s.output}`);
  console.log(answer);
} finally {
  serve?.kill('SIGTERM');
}
