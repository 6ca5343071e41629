import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import OpenAI from 'openai';
import { zodResponseFormat } from 'openai/helpers/zod';
import { z } from 'zod';
import { CANNED_SENTENCE, writeTinyModel } from '../../modules/gguf/index.js';
import { loadNativeEngine, startInferenceServer, type Engine, type InferenceServer } from '../../modules/infer/index.js';
import { postJson } from '../helpers/http.js';

// The canned model cannot decide to call a tool; a forced tool_choice or a response_format makes
// llama.cpp generate under a JSON grammar, which is what these tests check end to end.
let dir: string;
let engine: Engine;
let server: InferenceServer;
let client: OpenAI;
const ajv = new Ajv({ strict: false });
addFormats.default(ajv);

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
    const unknownTool = await postJson(server.url, '/v1/chat/completions', { messages: [{ role: 'user', content: 'x' }], tools, tool_choice: { type: 'function', function: { name: 'nope' } } });
    expect(unknownTool.status).toBe(400);
    expect(unknownTool.json.error).toMatchObject({ type: 'invalid_request_error', param: 'tool_choice.function.name' });

    const pattern = await postJson(server.url, '/v1/chat/completions', {
      messages: [{ role: 'user', content: 'x' }],
      tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: { code: { type: 'string', pattern: '^(?=[A-Z])\\w+$' } } } } }],
      tool_choice: 'required',
    });
    expect(pattern.status).toBe(400);
    expect(pattern.json.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_schema', param: 'tools.0.function.parameters.properties.code.pattern' });
    expect(pattern.json.error.message).toContain('lookaround');

    const orphan = await postJson(server.url, '/v1/chat/completions', { messages: [{ role: 'user', content: 'x' }, { role: 'tool', tool_call_id: 'call_9', content: '1' }] });
    expect(orphan.status).toBe(400);
    expect(orphan.json.error.param).toBe('messages.1.tool_call_id');

    const choiceWithoutTools = await postJson(server.url, '/v1/chat/completions', { messages: [{ role: 'user', content: 'x' }], tool_choice: 'required' });
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

    const bad = await postJson(server.url, '/v1/chat/completions', {
      messages: [{ role: 'user', content: 'x' }],
      response_format: { type: 'json_schema', json_schema: { name: 'n', schema: { type: 'object', properties: { n: { type: 'number', multipleOf: 3 } } } } },
    });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatchObject({ code: 'invalid_schema', param: 'response_format.json_schema.schema.properties.n.multipleOf' });
  });
});

describe('what agent frameworks send', () => {
  const Answer = { type: 'object', properties: { city: { type: 'string', enum: ['Paris', 'Rome'] }, sunny: { type: 'boolean' } }, required: ['city', 'sunny'], additionalProperties: false } as const;
  const answerFormat = { type: 'json_schema', json_schema: { name: 'answer', schema: Answer } } as const;

  /** Either a call to one of the tools, with arguments that match it, or content that matches the schema. */
  function expectCallOrAnswer(choice: any) {
    if (choice.message.tool_calls) {
      expect(choice.finish_reason).toBe('tool_calls');
      const call = choice.message.tool_calls[0];
      const tool = tools.find((t) => t.type === 'function' && t.function.name === call.function.name);
      expect(tool, call.function.name).toBeDefined();
      expect(ajv.validate(tool!.type === 'function' ? tool!.function.parameters! : {}, JSON.parse(call.function.arguments)), ajv.errorsText()).toBe(true);
    } else {
      expect(choice.finish_reason).toBe('stop');
      expect(ajv.validate(Answer, JSON.parse(choice.message.content)), ajv.errorsText()).toBe(true);
    }
  }

  // Issue 18 item 14: the Agents SDK drops tool_choice after the first turn; the AI SDK sends tools and output together.
  it('tools with tool_choice auto or absent, plus response_format: a call or the schema-shaped answer', async () => {
    for (const tool_choice of ['auto', undefined] as const) {
      for (const seed of [1, 2, 3]) {
        const res = await postJson(server.url, '/v1/chat/completions', {
          messages: [{ role: 'user', content: 'Weather in Rome?' }],
          tools,
          ...(tool_choice ? { tool_choice } : {}),
          response_format: answerFormat,
          seed,
          temperature: 1,
          max_tokens: 200,
        });
        expect(res.status, JSON.stringify(res.json)).toBe(200);
        expectCallOrAnswer(res.json.choices[0]);
      }
    }
    const stream = client.chat.completions.stream({ model: 'tiny', messages: [{ role: 'user', content: 'Weather?' }], tools, response_format: answerFormat, max_tokens: 200 });
    expectCallOrAnswer((await stream.finalChatCompletion()).choices[0]);

    const anyObject = await postJson(server.url, '/v1/chat/completions', { messages: [{ role: 'user', content: 'Weather?' }], tools, response_format: { type: 'json_object' }, max_tokens: 300 });
    expect(anyObject.status, JSON.stringify(anyObject.json)).toBe(200);
    const choice = anyObject.json.choices[0];
    if (!choice.message.tool_calls && choice.finish_reason === 'stop') expect(typeof JSON.parse(choice.message.content)).toBe('object');
  });

  // Issue 18 item 15: the AI SDK raised "unavailable tool ''" on a call cut by max_tokens.
  it('"required" cut by max_tokens still names a real tool; only the arguments are partial', async () => {
    const names = tools.map((t) => (t.type === 'function' ? t.function.name : ''));
    for (const max_tokens of [1, 2, 3, 5, 8, 13]) {
      const res = await postJson(server.url, '/v1/chat/completions', { messages: [{ role: 'user', content: 'Anything' }], tools, tool_choice: 'required', max_tokens });
      expect(res.status).toBe(200);
      const choice = res.json.choices[0];
      expect(choice.finish_reason).toBe('length');
      const call = choice.message.tool_calls[0];
      expect(names, `max_tokens ${max_tokens}`).toContain(call.function.name);
      expect(call.function.arguments).not.toContain('"name"');
    }
  });

  it('"required" spends on the call little more than its name and arguments', async () => {
    const res = await postJson(server.url, '/v1/chat/completions', { messages: [{ role: 'user', content: 'Anything' }], tools, tool_choice: 'required', max_tokens: 300 });
    const call = res.json.choices[0].message.tool_calls[0];
    // The old JSON wrapper ({"name": ..., "arguments": ...}) cost dozens of byte-level tokens more.
    expect(res.json.usage.completion_tokens).toBeLessThanOrEqual(engine.countTokens(`${call.function.name} ${call.function.arguments}`) + 8);
  });

  // Issue 18 item 17: what z.string().email() and friends write into a schema.
  it('pattern and format strings are generated to match, as zod writes them', async () => {
    const Contact = z.object({
      email: z.string().email(),
      id: z.string().uuid(),
      site: z.string().url(),
      day: z.string().date(),
      code: z.string().regex(/^[A-Z]{3}-\d{2}$/),
      ip: z.string().ipv4(),
    });
    const res = await client.chat.completions.parse({ model: 'tiny', messages: [{ role: 'user', content: 'A contact' }], response_format: zodResponseFormat(Contact, 'contact'), max_tokens: 1500 });
    const choice = res.choices[0]!;
    expect(choice.finish_reason).toBe('stop');
    expect(Contact.safeParse(choice.message.parsed).success, choice.message.content!).toBe(true);
    // The same schema without zod's patterns: the formats alone, checked by ajv-formats.
    const formats = {
      type: 'object',
      properties: { email: { type: 'string', format: 'email' }, id: { type: 'string', format: 'uuid' }, site: { type: 'string', format: 'uri' }, host: { type: 'string', format: 'hostname' }, ip: { type: 'string', format: 'ipv4' }, at: { type: 'string', format: 'date-time' } },
      required: ['email', 'id', 'site', 'host', 'ip', 'at'],
      additionalProperties: false,
    };
    const plain = await postJson(server.url, '/v1/chat/completions', { messages: [{ role: 'user', content: 'A contact' }], response_format: { type: 'json_schema', json_schema: { name: 'f', schema: formats } }, max_tokens: 1500 });
    expect(plain.status, JSON.stringify(plain.json)).toBe(200);
    expect(plain.json.choices[0].finish_reason, plain.json.choices[0].message.content).toBe('stop');
    const value = JSON.parse(plain.json.choices[0].message.content);
    expect(ajv.validate(formats, value), ajv.errorsText()).toBe(true);
    expect(z.object({ email: z.string().email(), id: z.string().uuid(), site: z.string().url() }).safeParse(value).success).toBe(true);
  });

  it('a pattern in a forced call is enforced; one a grammar cannot express is refused, naming it', async () => {
    const coded = { type: 'object', properties: { code: { type: 'string', pattern: '^[A-Z]{3}-[0-9]{2}$' } }, required: ['code'] };
    const res = await postJson(server.url, '/v1/chat/completions', {
      messages: [{ role: 'user', content: 'x' }],
      tools: [{ type: 'function', function: { name: 'lookup', parameters: coded } }],
      tool_choice: { type: 'function', function: { name: 'lookup' } },
      max_tokens: 200,
    });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.json.choices[0].message.tool_calls[0].function.arguments).code).toMatch(/^[A-Z]{3}-[0-9]{2}$/);

    const backref = await postJson(server.url, '/v1/chat/completions', {
      messages: [{ role: 'user', content: 'x' }],
      response_format: { type: 'json_schema', json_schema: { name: 'n', schema: { type: 'object', properties: { w: { type: 'string', pattern: '^(a)\\1$' } } } } },
    });
    expect(backref.status).toBe(400);
    expect(backref.json.error).toMatchObject({ code: 'invalid_schema', param: 'response_format.json_schema.schema.properties.w.pattern' });
    expect(backref.json.error.message).toContain('backreference');

    // Calls the model makes on its own go through the chat template's function calling, which has no patterns.
    const auto = await postJson(server.url, '/v1/chat/completions', { messages: [{ role: 'user', content: 'x' }], tools: [{ type: 'function', function: { name: 'lookup', parameters: coded } }] });
    expect(auto.status).toBe(400);
    expect(auto.json.error).toMatchObject({ code: 'invalid_schema', param: 'tools.0.function.parameters.properties.code.pattern' });
  });
});
