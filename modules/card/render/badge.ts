/**
 * A flat badge (SVG, in the style of shields.io) with the MOF class, coloured as the MOT colours
 * its badges: qualified green, in progress blue, unclassified grey.
 */
import type { MofEvaluation } from '../mof/evaluate.js';
import { escapeXml } from './escape.js';

const ROMAN = { 1: 'I', 2: 'II', 3: 'III' } as const;

/** Approximate Verdana 11px advance, enough to size the two halves. */
function textWidth(text: string): number {
  return Math.round([...text].reduce((w, ch) => w + (/[A-Z0-9%]/.test(ch) ? 7.5 : /[ .,:;()I]/.test(ch) ? 3.5 : 6.2), 0)) + 10;
}

export function mofBadgeText(evaluation: Pick<MofEvaluation, 'class' | 'progress'>): { label: string; status: string; color: string } {
  if (evaluation.class !== 0) return { label: 'MOF', status: `Class ${ROMAN[evaluation.class]}`, color: '#4c1' };
  const p3 = evaluation.progress['3'];
  if (p3 > 0) return { label: 'MOF', status: `Class III ${Math.round(p3)}%`, color: '#76b1c9' };
  return { label: 'MOF', status: 'Unclassified', color: '#9ba0a2' };
}

export function mofBadgeSvg(evaluation: Pick<MofEvaluation, 'class' | 'progress'>): string {
  const { label, status, color } = mofBadgeText(evaluation);
  const lw = textWidth(label);
  const rw = textWidth(status);
  const w = lw + rw;
  const title = escapeXml(`${label}: ${status}`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="20" role="img" aria-label="${title}">
<title>${title}</title>
<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>
<clipPath id="r"><rect width="${w}" height="20" rx="3" fill="#fff"/></clipPath>
<g clip-path="url(#r)"><rect width="${lw}" height="20" fill="#555"/><rect x="${lw}" width="${rw}" height="20" fill="${color}"/><rect width="${w}" height="20" fill="url(#s)"/></g>
<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11">
<text x="${lw / 2}" y="14">${escapeXml(label)}</text><text x="${lw + rw / 2}" y="14">${escapeXml(status)}</text>
</g>
</svg>
`;
}
