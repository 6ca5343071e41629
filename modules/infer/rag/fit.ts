/**
 * Fits retrieved passages into the model's context: the best ones whole while they fit, one cut at
 * a word boundary when enough room is left for it, and always room for the conversation, the chat
 * template and the answer. Tokens are counted with the engine's own tokenizer.
 */
import type { ChatMessage, Engine } from '../engine.js';
import type { RetrievedPassage } from '../server.js';

export interface UsedPassage extends RetrievedPassage {
  /** Only the start of the passage fitted. */
  truncated?: boolean;
}

export interface FittedPassages {
  /** The conversation with the passages' system message first (unchanged when none fitted). */
  messages: ChatMessage[];
  used: UsedPassage[];
  /** Tokens of the prompt as the engine will evaluate it (template included, or estimated). */
  promptTokens: number;
}

/** Room kept for the answer when the request sets no max_tokens (at most a quarter of the context). */
export const DEFAULT_ANSWER_TOKENS = 256;
/** A cut passage shorter than this is not worth its place. */
export const MIN_CUT_TOKENS = 32;
/** Allowance for the chat template when the engine cannot count it. */
const TEMPLATE_ALLOWANCE = 16;

/** Tokens kept free for the answer: what the request asks for, at most half the context. */
export function answerRoom(contextSize: number, asked: number | undefined): number {
  if (asked === undefined) return Math.min(DEFAULT_ANSWER_TOKENS, Math.floor(contextSize / 4));
  return Math.min(asked, Math.floor(contextSize / 2));
}

/**
 * Keeps passages in rank order while the prompt stays within the context less `answerTokens` and
 * `extraTokens` (e.g. tool definitions); a passage too long to fit whole is cut to fit if at least
 * MIN_CUT_TOKENS of it would remain, else skipped so a shorter one further down may still fit.
 */
export function fitPassages(engine: Engine, messages: ChatMessage[], passages: RetrievedPassage[], answerTokens: number, extraTokens = 0): FittedPassages {
  const limit = engine.contextSize - answerTokens - extraTokens;
  const withPassages = (chosen: RetrievedPassage[]) => (chosen.length > 0 ? [contextMessage(chosen), ...messages] : messages);
  const fits = (chosen: RetrievedPassage[]) => promptTokens(engine, withPassages(chosen)) <= limit;
  const used: UsedPassage[] = [];
  for (const passage of passages) {
    if (fits([...used, passage])) {
      used.push(passage);
      continue;
    }
    const cut = longestStartThatFits(passage.text, (text) => fits([...used, { ...passage, text }]), ' …');
    if (cut !== undefined && engine.countTokens(cut) >= MIN_CUT_TOKENS) used.push({ ...passage, text: cut, truncated: true });
  }
  const final = withPassages(used);
  return { messages: final, used, promptTokens: promptTokens(engine, final) };
}

/** The system message that carries the passages, numbered for citation. */
export function contextMessage(passages: RetrievedPassage[]): ChatMessage {
  const listed = passages.map((p, i) => `[${i + 1}] (${p.source})\n${p.text}`).join('\n\n');
  return { role: 'system', content: `Answer from these passages and cite their numbers.\n\n${listed}` };
}

function promptTokens(engine: Engine, messages: ChatMessage[]): number {
  if (engine.countChatTokens) return engine.countChatTokens(messages);
  return engine.countTokens(messages.map((m) => m.content).join('\n')) + TEMPLATE_ALLOWANCE;
}

/** The longest start of `text` shorter than all of it, cut after a word and followed by `suffix`, that `fits` (binary search over word ends). */
export function longestStartThatFits(text: string, fits: (text: string) => boolean, suffix = ''): string | undefined {
  const ends: number[] = [];
  for (const m of text.matchAll(/\S+/g)) ends.push(m.index + m[0].length);
  const candidate = (i: number) => `${text.slice(0, ends[i])}${suffix}`;
  let lo = 0;
  let hi = ends.length - 2; // the whole text did not fit
  let best: string | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const cut = candidate(mid);
    if (fits(cut)) {
      best = cut;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return best;
}
