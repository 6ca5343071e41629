/**
 * A chat in the terminal: lines in, streamed answers out, history kept, `/bye` to leave.
 * Works the same with piped stdin, one question per line.
 */
import readline from 'node:readline';
import { collect, type ChatMessage, type Engine } from './engine.js';

export interface TerminalChatOptions {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  /** Show a "> " prompt (on a TTY). */
  prompt?: boolean;
  system?: string;
  maxTokens?: number;
}

/** Returns the conversation as it ended. */
export async function chatInTerminal(engine: Engine, options: TerminalChatOptions): Promise<ChatMessage[]> {
  const history: ChatMessage[] = options.system ? [{ role: 'system', content: options.system }] : [];
  const lines = readline.createInterface({ input: options.input, terminal: false, crlfDelay: Infinity });
  const showPrompt = () => options.prompt && options.output.write('> ');
  showPrompt();
  for await (const raw of lines) {
    const line = raw.trim();
    if (line === '/bye' || line === '/exit') break;
    if (line === '') {
      showPrompt();
      continue;
    }
    history.push({ role: 'user', content: line });
    const result = await collect(engine.chat(history, { ...(options.maxTokens ? { maxTokens: options.maxTokens } : {}) }), (chunk) => options.output.write(chunk));
    options.output.write('\n');
    history.push({ role: 'assistant', content: result.text });
    showPrompt();
  }
  lines.close();
  return history;
}
