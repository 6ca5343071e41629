/** Progress bars on a TTY (stderr), one line per unit of work, redrawn in place. */
import { formatBytes, type Reporter } from '../progress/index.js';
import { escapeControl } from './escape.js';

interface Unit {
  label: string;
  total?: number;
  done: number;
  status?: string;
}

export function createTerminalReporter(out: NodeJS.WritableStream): Reporter {
  const units = new Map<string, Unit>();
  let drawn = 0;
  let last = 0;

  const draw = (force = false) => {
    const now = Date.now();
    if (!force && now - last < 100) return;
    last = now;
    const lines = [...units.values()].slice(-8).map(renderLine);
    let s = drawn > 0 ? `\x1b[${drawn}A` : '';
    for (const l of lines) s += `\x1b[2K${l}\n`;
    drawn = lines.length;
    out.write(s);
  };

  return {
    start(id, label, total) {
      units.set(id, { label: escapeControl(label), total, done: 0 });
      draw();
    },
    advance(id, bytes) {
      const u = units.get(id);
      if (u) u.done += bytes;
      draw();
    },
    finish(id, status) {
      const u = units.get(id);
      if (u) u.status = status;
      draw(true);
    },
    note(message) {
      out.write(`${escapeControl(message)}\n`);
      drawn = 0;
    },
  };
}

function renderLine(u: Unit): string {
  const label = u.label.length > 28 ? u.label.slice(0, 27) + '…' : u.label.padEnd(28);
  if (u.status) return `${label} ${u.status}`;
  if (!u.total) return `${label} ${formatBytes(u.done)}`;
  const ratio = Math.min(1, u.done / u.total);
  const width = 30;
  const filled = Math.round(ratio * width);
  return `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${formatBytes(u.done)}/${formatBytes(u.total)}`;
}
