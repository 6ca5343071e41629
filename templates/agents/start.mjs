// One command: serve the model, run the agents against it, stop the server.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { runAgents } from './agents.mjs';

const model = process.env.MODEL ?? 'model';
const serve = spawn('modelship', ['serve', model, '--port', '0', '--json'], { stdio: ['ignore', 'pipe', 'inherit'] });
const [line] = await once(serve.stdout, 'data');
const { url } = JSON.parse(String(line).split('\n')[0]);
try {
  const { answer, steps } = await runAgents({ baseURL: url, task: process.argv.slice(2).join(' ') || 'How many words are in README.md?' });
  for (const s of steps) console.log(`${s.tool}(${JSON.stringify(s.input)}): ${s.output}`);
  console.log(answer);
} finally {
  serve.kill('SIGTERM');
}
