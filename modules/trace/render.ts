/** The trace as a tree a person reads: one branch per link, its findings as leaves. */
import type { TraceInput } from './input.js';
import type { LinkStatus, TraceLink, TraceResult } from './trace.js';

const MARK: Record<LinkStatus, string> = { ok: 'ok  ', missing: 'MISS', failed: 'FAIL', unreachable: 'DOWN', unverified: '??? ', skipped: 'skip' };

export function renderTrace(input: TraceInput, result: TraceResult): string {
  const svc = input.inferenceService;
  const lines: string[] = [];
  if (svc) {
    const state = svc.status ? ` (Ready: ${svc.status.ready ?? 'unknown'}${svc.status.reason ? `, ${svc.status.reason}` : ''}${svc.status.url ? `, ${svc.status.url}` : ''})` : '';
    lines.push(`InferenceService ${svc.namespace ? `${svc.namespace}/` : ''}${svc.name ?? '(unnamed)'} in ${svc.file}${state}`);
  }
  lines.push(result.storageUri);
  const width = Math.max(...result.links.map((l) => l.name.length));
  result.links.forEach((l, i) => {
    const last = i === result.links.length - 1;
    lines.push(`${last ? '└── ' : '├── '}${MARK[l.status]} ${l.name.padEnd(width)}  ${l.summary}`);
    const stem = last ? '    ' : '│   ';
    l.details.forEach((d, j) => lines.push(`${stem}${j === l.details.length - 1 ? '└── ' : '├── '}${d}`));
  });
  const first = result.links.find((l) => l.name === result.brokenLink);
  lines.push(result.ok || !first ? 'trace complete: every link holds' : brokenLine(first));
  return lines.join('\n');
}

/** The trace's verdict on its first broken link, one line: the tree's last, and stderr's with --json. */
export function brokenLine(link: TraceLink): string {
  return `trace broken at ${link.name} (${link.status}, exit ${link.exitCode}): ${link.summary}`;
}
