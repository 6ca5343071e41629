// A planner/worker pair against a local OpenAI-compatible endpoint, with tools over MCP.
// The planner asks the model for a JSON plan; the worker runs each step with a tool or the model.
import OpenAI from 'openai';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

/** Connects to the MCP tool server (a child process over stdio). */
export async function connectTools(command = process.execPath, args = [new URL('./tools-server.mjs', import.meta.url).pathname], env = {}) {
  const client = new Client({ name: 'worker', version: '1.0.0' });
  await client.connect(new StdioClientTransport({ command, args, env: { ...process.env, ...env } }));
  return client;
}

/** Asks the model for steps; a model that answers prose still gets a one-step plan. */
export async function plan(llm, model, task, tools) {
  const toolList = tools.map((t) => `- ${t.name}: ${t.description} input ${JSON.stringify(t.inputSchema.properties ?? {})}`).join('\n');
  const res = await llm.chat.completions.create({
    model,
    temperature: 0,
    messages: [
      { role: 'system', content: `You plan. Answer only JSON: {"steps":[{"tool":"<name or null>","input":{...},"why":"..."}]}. Tools:\n${toolList}` },
      { role: 'user', content: task },
    ],
  });
  const text = res.choices[0]?.message.content ?? '';
  try {
    const parsed = JSON.parse(text.slice(text.indexOf('{'), text.lastIndexOf('}') + 1));
    if (Array.isArray(parsed.steps) && parsed.steps.length > 0) return { steps: parsed.steps, raw: text };
  } catch {
    // not JSON: fall through
  }
  return { steps: [{ tool: null, input: {}, why: task }], raw: text };
}

/** Runs each step: a tool call over MCP, or a question to the model. */
export async function work(llm, model, tools, steps) {
  const results = [];
  for (const step of steps) {
    if (step.tool) {
      const out = await tools.callTool({ name: step.tool, arguments: step.input ?? {} });
      results.push({ step, output: out.content.map((c) => c.text ?? '').join(''), isError: Boolean(out.isError) });
    } else {
      const res = await llm.chat.completions.create({ model, messages: [{ role: 'user', content: step.why }] });
      results.push({ step, output: res.choices[0]?.message.content ?? '', isError: false });
    }
  }
  return results;
}

export async function runAgents({ baseURL, task }) {
  const llm = new OpenAI({ baseURL, apiKey: 'local' });
  const model = (await llm.models.list()).data[0].id;
  const tools = await connectTools();
  try {
    const { tools: available } = await tools.listTools();
    const { steps } = await plan(llm, model, task, available);
    return await work(llm, model, tools, steps);
  } finally {
    await tools.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const baseURL = process.env.OPENAI_BASE_URL ?? 'http://127.0.0.1:8080/v1';
  const task = process.argv.slice(2).join(' ') || 'How many words are in README.md?';
  for (const r of await runAgents({ baseURL, task })) console.log(`${r.step.tool ?? 'model'}: ${r.output}`);
}
