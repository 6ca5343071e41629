// An agent against a local OpenAI-compatible endpoint: the model calls tools (OpenAI tool calls),
// the tools run on an MCP server, and their results go back to the model until it answers.
import OpenAI from 'openai';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

/** Connects to the MCP tool server (a child process over stdio). */
export async function connectTools(command = process.execPath, args = [new URL('./tools-server.mjs', import.meta.url).pathname], env = {}) {
  const client = new Client({ name: 'worker', version: '1.0.0' });
  await client.connect(new StdioClientTransport({ command, args, env: { ...process.env, ...env } }));
  return client;
}

/** MCP tool descriptions as OpenAI `tools`: the input schema is the function's parameters. */
export function toOpenAITools(mcpTools) {
  return mcpTools.map((t) => ({ type: 'function', function: { name: t.name, description: t.description ?? '', parameters: t.inputSchema } }));
}

/**
 * Runs one task: the model answers or calls tools; each call runs over MCP and its result goes back
 * as a `tool` message, until the model answers in prose or `maxTurns` is reached.
 * `toolChoice` applies to the first turn ("auto", "required" or {type: 'function', function: {name}}).
 */
export async function runTask(llm, model, tools, task, { toolChoice = 'auto', maxTurns = 5, maxTokens = 256 } = {}) {
  const { tools: available } = await tools.listTools();
  const messages = [
    { role: 'system', content: 'You are a careful assistant. Call a tool when it helps; then answer briefly.' },
    { role: 'user', content: task },
  ];
  const steps = [];
  for (let turn = 0; turn < maxTurns; turn++) {
    const res = await llm.chat.completions.create({
      model,
      messages,
      tools: toOpenAITools(available),
      tool_choice: turn === 0 ? toolChoice : 'auto',
      max_tokens: maxTokens,
      temperature: 0,
    });
    const message = res.choices[0].message;
    messages.push(message);
    if (!message.tool_calls?.length) return { answer: message.content ?? '', steps, messages };
    for (const call of message.tool_calls) {
      const input = JSON.parse(call.function.arguments);
      const out = await tools.callTool({ name: call.function.name, arguments: input });
      const output = out.content.map((c) => c.text ?? '').join('');
      steps.push({ tool: call.function.name, input, output, isError: Boolean(out.isError) });
      messages.push({ role: 'tool', tool_call_id: call.id, content: output });
    }
  }
  return { answer: '', steps, messages };
}

export async function runAgents({ baseURL, task }) {
  const llm = new OpenAI({ baseURL, apiKey: 'local' });
  const model = (await llm.models.list()).data[0].id;
  const tools = await connectTools();
  try {
    return await runTask(llm, model, tools, task);
  } finally {
    await tools.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const baseURL = process.env.OPENAI_BASE_URL ?? 'http://127.0.0.1:8080/v1';
  const task = process.argv.slice(2).join(' ') || 'How many words are in README.md?';
  const { answer, steps } = await runAgents({ baseURL, task });
  for (const s of steps) console.log(`${s.tool}(${JSON.stringify(s.input)}): ${s.output}`);
  console.log(answer);
}
