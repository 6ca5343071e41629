import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Ajv } from 'ajv';
import OpenAI from 'openai';
import { zodResponseFormat } from 'openai/helpers/zod';
import { z } from 'zod';
import { CANNED_SENTENCE, writeTinyModel } from '../../modules/gguf/index.js';
import { loadNativeEngine, startInferenceServer, type Engine, type InferenceServer } from '../../modules/infer/index.js';

// The canned model cannot decide to call a tool; a forced tool_choice or a response_format makes
// llama.cpp generate under a JSON grammar, which is what these tests check end to end.
let dir: string;
let engine: Engine;
let server: InferenceServer;
let client: OpenAI;
const ajv = new Ajv({ strict: false });

const weather = {
  type: 'object',
  properties: { city: { type: 'string', enum: ['Paris', 'Rome'] }, days: { type: 'integer' } },
  required: ['city', 'days'],
  additionalProperties: false,
} as const;
const clock = { type: 'object', properties: { zone: { type: 'string', enum: ['UTC', 'CET'] } }, required: ['zone'] } as const;
const tools: OpenAI.Chat.Completions.ChatCompletionTool[] = [
  { type: 'function', function: { name: 'get_weather', description: 'Weather forecast for a city', parameters: weather } },
  { type: 'function', function: { name: 'get_time', description: 'Current time in a zone', parameters: clock } },
];

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'infer-tools-'));
  const model = await writeTinyModel(path.join(dir, 'tiny.gguf'), { mode: 'canned' });
  // Byte-level tokens: the tool documentation needs a roomier context than plain chat.
  engine = await loadNativeEngine({ modelPath: model.path, threads: 1, gpu: 'none', contextSize: 2048 });
  server = await startInferenceServer({ engine });
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});

afterAll(async () => {
  await server?.close();
  await engine?.dispose();
  await rm(dir, { recursive: true, force: true });
});

async function postJson(route: string, body: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(server.url + route, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, json: await res.json() };
}

describe('tool calls', () => {
  it('a named tool_choice yields a tool_calls entry whose arguments match the schema', async () => {
    const res = await client.chat.completions.create({
      model: 'tiny',
      messages: [{ role: 'user', content: 'What is the weather in Rome this week?' }],
      tools,
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
    });
    const choice = res.choices[0]!;
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBeNull();
    expect(choice.message.tool_calls).toHaveLength(1);
    const call = choice.message.tool_calls![0]!;
    expect(call.type).toBe('function');
    expect(call.id).toMatch(/^call_[0-9a-f]{24}$/);
    if (call.type !== 'function') throw new Error('not a function call');
    expect(call.function.name).toBe('get_weather');
    const args = JSON.parse(call.function.arguments);
    expect(ajv.validate(weather, args), ajv.errorsText()).toBe(true);
  });

  it('"required" picks one of the tools, and the arguments match that tool', async () => {
    const res = await client.chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: 'Anything' }], tools, tool_choice: 'required' });
    const call = res.choices[0]!.message.tool_calls![0]!;
    if (call.type !== 'function') throw new Error('not a function call');
    const tool = tools.find((t) => t.type === 'function' && t.function.name === call.function.name);
    expect(tool).toBeDefined();
    expect(ajv.validate(tool!.type === 'function' ? tool!.function.parameters! : {}, JSON.parse(call.function.arguments))).toBe(true);
    expect(res.choices[0]!.finish_reason).toBe('tool_calls');
  });

  it('streams the call as tool_calls deltas that the client assembles', async () => {
    const stream = client.chat.completions.stream({
      model: 'tiny',
      messages: [{ role: 'user', content: 'Time?' }],
      tools,
      tool_choice: { type: 'function', function: { name: 'get_time' } },
    });
    const done = await stream.finalChatCompletion();
    const call = done.choices[0]!.message.tool_calls![0]!;
    if (call.type !== 'function') throw new Error('not a function call');
    expect(call.function.name).toBe('get_time');
    expect(ajv.validate(clock, JSON.parse(call.function.arguments))).toBe(true);
    expect(done.choices[0]!.finish_reason).toBe('tool_calls');
  });

  it("the client's runTools helper calls the function and sends its result back", async () => {
    const seen: unknown[] = [];
    const runner = client.chat.completions.runTools({
      model: 'tiny',
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
      tools: [
        {
          type: 'function',
          function: {
            name: 'get_weather',
            description: 'Weather forecast for a city',
            parameters: weather as unknown as Record<string, unknown>,
            parse: JSON.parse,
            function: (args: unknown) => {
              seen.push(args);
              return { forecast: 'sunny' };
            },
          },
        },
      ],
    });
    await runner.done();
    const completions = runner.allChatCompletions();
    expect(seen).toHaveLength(1);
    expect(ajv.validate(weather, seen[0])).toBe(true);
    expect(completions[0]!.choices[0]!.finish_reason).toBe('tool_calls');
    // The tool's answer went back as a tool message, and the model answered it in prose.
    const toolMessage = runner.messages.find((m) => m.role === 'tool');
    expect(toolMessage).toMatchObject({ content: JSON.stringify({ forecast: 'sunny' }) });
  });

  it('continues after tool results, and "auto" with the canned model answers in prose', async () => {
    const res = await client.chat.completions.create({
      model: 'tiny',
      tools,
      messages: [
        { role: 'user', content: 'Weather in Rome?' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome","days":1}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: '{"forecast":"rain"}' },
      ],
    });
    expect(res.choices[0]!.finish_reason).toBe('stop');
    expect(res.choices[0]!.message.tool_calls).toBeUndefined();
    expect(res.choices[0]!.message.content).toContain(CANNED_SENTENCE);
  });

  it('refuses tool requests it cannot honour, in the OpenAI error shape', async () => {
    const unknownTool = await postJson('/v1/chat/completions', { messages: [{ role: 'user', content: 'x' }], tools, tool_choice: { type: 'function', function: { name: 'nope' } } });
    expect(unknownTool.status).toBe(400);
    expect(unknownTool.json.error).toMatchObject({ type: 'invalid_request_error', param: 'tool_choice.function.name' });

    const pattern = await postJson('/v1/chat/completions', {
      messages: [{ role: 'user', content: 'x' }],
      tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: { code: { type: 'string', pattern: '^[A-Z]+$' } } } } }],
      tool_choice: 'required',
    });
    expect(pattern.status).toBe(400);
    expect(pattern.json.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_schema', param: 'tools.0.function.parameters.properties.code.pattern' });

    const orphan = await postJson('/v1/chat/completions', { messages: [{ role: 'user', content: 'x' }, { role: 'tool', tool_call_id: 'call_9', content: '1' }] });
    expect(orphan.status).toBe(400);
    expect(orphan.json.error.param).toBe('messages.1.tool_call_id');

    const choiceWithoutTools = await postJson('/v1/chat/completions', { messages: [{ role: 'user', content: 'x' }], tool_choice: 'required' });
    expect(choiceWithoutTools.status).toBe(400);
    expect(choiceWithoutTools.json.error.param).toBe('tool_choice');
  });
});

describe('response_format', () => {
  it('json_schema through the client parse helper yields JSON matching the schema', async () => {
    const Answer = z.object({ city: z.enum(['Paris', 'Rome']), sunny: z.boolean() });
    const res = await client.chat.completions.parse({
      model: 'tiny',
      messages: [{ role: 'user', content: 'Which city?' }],
      response_format: zodResponseFormat(Answer, 'answer'),
    });
    const parsed = res.choices[0]!.message.parsed;
    expect(Answer.safeParse(parsed).success).toBe(true);
    expect(res.choices[0]!.finish_reason).toBe('stop');
  });

  it('json_object yields a JSON object, and unknown schema words are refused', async () => {
    const res = await client.chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: 'JSON please' }], response_format: { type: 'json_object' }, max_tokens: 400 });
    // A string value may run to max_tokens on this model; whatever was closed must parse.
    if (res.choices[0]!.finish_reason === 'stop') expect(typeof JSON.parse(res.choices[0]!.message.content!)).toBe('object');
    else expect(res.choices[0]!.message.content!.startsWith('{')).toBe(true);

    const bad = await postJson('/v1/chat/completions', {
      messages: [{ role: 'user', content: 'x' }],
      response_format: { type: 'json_schema', json_schema: { name: 'n', schema: { type: 'object', properties: { n: { type: 'number', multipleOf: 3 } } } } },
    });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatchObject({ code: 'invalid_schema', param: 'response_format.json_schema.schema.properties.n.multipleOf' });
  });
});
