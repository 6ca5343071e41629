/**
 * `modelship card`: write README.md (model card), DATACARD.md, mof-badge.svg and optionally
 * card.html into a folder, each through a temp file and a rename, never over an existing card
 * unless asked.
 */
import path from 'node:path';
import { ModelshipError } from '../errors/index.js';
import { writeFileAtomic } from '../fs/atomic.js';
import { pathExists } from '../fs/exists.js';
import { buildDataCard, buildModelCard, unfilledSections } from './card/model-card.js';
import type { ProjectView } from './project.js';
import { mofBadgeSvg } from './render/badge.js';
import { renderCardHtml } from './render/html.js';

export const BADGE_FILE = 'mof-badge.svg';

export interface CardSet {
  modelCard: string;
  dataCard: string;
  badgeSvg: string;
  html?: string;
  warnings: string[];
  /** Prompts of the sections left for the engineer, model card then data card. */
  unfilled: string[];
}

export function buildCardSet(view: ProjectView, opts: { html?: boolean } = {}): CardSet {
  const inputs = { facts: view.facts, mof: view.mof, badgeFile: BADGE_FILE,
    ...(view.evalResults ? { evalResults: view.evalResults } : {}), ...(view.evalFile ? { evalFile: view.evalFile } : {}) };
  const model = buildModelCard(inputs);
  const dataCard = buildDataCard(inputs);
  const set: CardSet = {
    modelCard: model.markdown,
    dataCard,
    badgeSvg: mofBadgeSvg(view.mof.evaluation),
    warnings: [...view.mof.warnings, ...model.warnings],
    unfilled: [...unfilledSections(model.markdown), ...unfilledSections(dataCard)],
  };
  if (opts.html) set.html = renderCardHtml({ facts: view.facts, mof: view.mof, modelCard: model.markdown, ...(view.evalResults ? { evalResults: view.evalResults } : {}) });
  return set;
}

export async function writeCardSet(set: CardSet, outDir: string, opts: { force?: boolean } = {}): Promise<string[]> {
  const files: [string, string][] = [['README.md', set.modelCard], ['DATACARD.md', set.dataCard], [BADGE_FILE, set.badgeSvg]];
  if (set.html !== undefined) files.push(['card.html', set.html]);
  if (!opts.force) {
    for (const name of ['README.md', 'DATACARD.md']) {
      const target = path.join(outDir, name);
      if (await pathExists(target)) {
        throw new ModelshipError('CARD_EXISTS', `${target} already exists and is not overwritten: write the cards elsewhere with -o DIR and merge by hand, or pass --force to replace it`, { details: { file: target } });
      }
    }
  }
  const written: string[] = [];
  for (const [name, content] of files) {
    const target = path.join(outDir, name);
    await writeFileAtomic(target, content);
    written.push(target);
  }
  return written;
}
