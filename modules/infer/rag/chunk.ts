/** Splits text or markdown into passages of at most `maxChars`, on headings and blank lines first. */

export interface ChunkOptions {
  maxChars?: number;
}

export function chunkText(text: string, options: ChunkOptions = {}): string[] {
  const maxChars = options.maxChars ?? 800;
  const blocks = text
    .replace(/\r\n/g, '\n')
    .split(/\n(?=#{1,6} )|\n\s*\n/)
    .map((b) => b.trim())
    .filter((b) => b.length > 0);
  const chunks: string[] = [];
  let current = '';
  for (const block of blocks.flatMap((b) => splitLong(b, maxChars))) {
    if (current && current.length + block.length + 2 > maxChars) {
      chunks.push(current);
      current = '';
    }
    current = current ? `${current}\n\n${block}` : block;
  }
  if (current) chunks.push(current);
  return chunks;
}

/** A block longer than the limit is cut at sentence ends, else at spaces. */
function splitLong(block: string, maxChars: number): string[] {
  if (block.length <= maxChars) return [block];
  const out: string[] = [];
  let rest = block;
  while (rest.length > maxChars) {
    const window = rest.slice(0, maxChars);
    const cut = Math.max(window.lastIndexOf('. '), window.lastIndexOf('\n'));
    const at = cut > maxChars / 2 ? cut + 1 : window.lastIndexOf(' ') > 0 ? window.lastIndexOf(' ') : maxChars;
    out.push(rest.slice(0, at).trim());
    rest = rest.slice(at).trim();
  }
  if (rest) out.push(rest);
  return out;
}
