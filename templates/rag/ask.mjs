// Ask the RAG server a question; prints the answer and the files it was drawn from.
import OpenAI from 'openai';

const llm = new OpenAI({ baseURL: process.env.OPENAI_BASE_URL ?? 'http://127.0.0.1:8080/v1', apiKey: 'local' });
const model = (await llm.models.list()).data[0].id;
const question = process.argv.slice(2).join(' ') || 'How do I stop the server?';
const res = await llm.chat.completions.create({ model, messages: [{ role: 'user', content: question }] });
console.log(res.choices[0]?.message.content);
// modelship adds the retrieved passages' files to the response.
for (const s of res.sources ?? []) console.log(`source: ${s.source} (score ${s.score.toFixed(3)})`);
