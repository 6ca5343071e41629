// A streaming chat against the local OpenAI-compatible endpoint (`npm run serve` first).
import readline from 'node:readline/promises';
import OpenAI from 'openai';

const llm = new OpenAI({ baseURL: process.env.OPENAI_BASE_URL ?? 'http://127.0.0.1:8080/v1', apiKey: 'local' });
const model = (await llm.models.list()).data[0].id;
const history = [{ role: 'system', content: 'You are a helpful assistant.' }];
const rl = readline.createInterface({ input: process.stdin, output: process.stdout, terminal: Boolean(process.stdin.isTTY) });
for await (const line of rl) {
  if (line.trim() === '/bye') break;
  history.push({ role: 'user', content: line });
  let answer = '';
  for await (const chunk of await llm.chat.completions.create({ model, messages: history, stream: true })) {
    const text = chunk.choices[0]?.delta.content ?? '';
    answer += text;
    process.stdout.write(text);
  }
  process.stdout.write('\n');
  history.push({ role: 'assistant', content: answer });
}
rl.close();
