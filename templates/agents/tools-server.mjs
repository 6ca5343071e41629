// An MCP tool server over stdio: the worker agent calls these tools.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';

const root = path.resolve(process.env.AGENT_WORKSPACE ?? process.cwd());
const server = new McpServer({ name: 'workspace-tools', version: '1.0.0' });

server.registerTool(
  'word_count',
  { description: 'Count the words in a text file of the workspace.', inputSchema: { file: z.string() } },
  async ({ file }) => {
    const full = path.resolve(root, file);
    // Tools may only read inside the workspace.
    if (!full.startsWith(root + path.sep)) return { isError: true, content: [{ type: 'text', text: `${file} is outside the workspace` }] };
    const text = await readFile(full, 'utf8');
    return { content: [{ type: 'text', text: String(text.split(/\s+/).filter(Boolean).length) }] };
  },
);

server.registerTool(
  'add',
  { description: 'Add numbers.', inputSchema: { numbers: z.array(z.number()) } },
  async ({ numbers }) => ({ content: [{ type: 'text', text: String(numbers.reduce((a, b) => a + b, 0)) }] }),
);

await server.connect(new StdioServerTransport());
