/**
 * One self-contained HTML page (no scripts, no external resources) showing the card's facts,
 * evaluation results and MOF result, for people who would rather look than read YAML.
 */
import type { EvalResult } from '../card/eval-results.js';
import { unfilledSections } from '../card/model-card.js';
import type { MofDerivation } from '../mof/derive.js';
import type { ProjectFacts } from '../mof/facts.js';
import { mofBadgeSvg } from './badge.js';
import { escapeXml as esc } from './escape.js';

export interface HtmlInputs {
  facts: ProjectFacts;
  mof: MofDerivation;
  evalResults?: EvalResult[];
  /** The model card's Markdown, shown as text and searched for unfilled sections. */
  modelCard: string;
}

function table(head: string[], rows: string[][]): string {
  if (rows.length === 0) return '<p class="none">None.</p>';
  return `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${
    rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

export function renderCardHtml(inputs: HtmlInputs): string {
  const { facts, mof } = inputs;
  const e = mof.evaluation;
  const details: [string, string | undefined][] = [
    ['Version', facts.version], ['Developed by', facts.producer], ['Architecture', facts.architecture],
    ['Parameters', facts.paramSize], ['Format', facts.format], ['Licence', facts.licenses.join(', ') || undefined],
    ['Languages', facts.languages?.join(', ')], ['Repository', facts.repository],
  ];
  const todo = unfilledSections(inputs.modelCard);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${esc(facts.name)}: model card</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1f2328}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}th,td{border:1px solid #d0d7de;padding:.3rem .6rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}.none{color:#656d76}.bad{color:#b3261e}pre{white-space:pre-wrap;background:#f6f8fa;padding:1rem;border-radius:6px}
</style>
</head>
<body>
<h1>${esc(facts.name)}</h1>
${mofBadgeSvg(e)}
<p>${esc(facts.description ?? '')}</p>
<h2>Model details</h2>
${table(['Field', 'Value'], details.filter(([, v]) => v).map(([k, v]) => [k, v!]))}
<h2>Model openness (MOF)</h2>
<p><strong>${esc(e.label)}</strong>: Class III ${Math.round(e.progress['3'])}%, Class II ${Math.round(e.progress['2'])}%, Class I ${Math.round(e.progress['1'])}%.</p>
${table(['Component', 'Class', 'Licence', 'Open', 'Files'], mof.components.map((c) => [c.name, 'I'.repeat(c.class), c.license, c.open ? 'yes' : 'no', c.files.join(', ')]))}
<h3>Still needed</h3>
${table(['Component', 'Class', 'What to add'], mof.toAdd.map((m) => [m.name, 'I'.repeat(m.class), m.hint]))}
<h2>Evaluation</h2>
${table(['Task', 'Dataset', 'Metric', 'Value'], (inputs.evalResults ?? []).flatMap((r) => r.metrics.map((m) => [r.taskName ?? r.taskType ?? '', r.datasetName, m.name ?? m.type, String(m.value)])))}
<h2>Sections left to write</h2>
${todo.length ? `<ul>${todo.map((t) => `<li class="bad">${esc(t)}</li>`).join('')}</ul>` : '<p class="none">None.</p>'}
<h2>Model card (Markdown)</h2>
<pre>${esc(inputs.modelCard)}</pre>
</body>
</html>
`;
}
