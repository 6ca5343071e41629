/**
 * The public face of modules/card: what other modules and the lead's attach step rely on.
 */
import { describe, expect, it } from 'vitest';
import * as card from '../../modules/card/index.js';

describe('modules/card exports', () => {
  it('exposes the classifier, the derivation, the cards and the attachable documents', () => {
    expect(Object.keys(card).sort()).toEqual([
      'BADGE_FILE', 'CLASS_LABELS', 'DATA_CARD_ARTIFACT_TYPE', 'MARKDOWN_MEDIA_TYPE', 'MODEL_CARD_ARTIFACT_TYPE', 'MOF_COMPONENTS',
      'MOF_REPORT_ARTIFACT_TYPE', 'buildCardSet', 'buildDataCard', 'buildModelCard', 'classifyMot', 'componentByName', 'componentsOfFile',
      'dataCardDocument', 'deriveMof', 'detectLicense', 'evaluateMot', 'fillIn', 'fromModelIndex', 'gateGaps', 'hfLicenseFor', 'isEvalResultsFile',
      'isOpenLicense', 'isTypeAppropriate', 'meetsClass', 'modelCardDocument', 'mofBadgeSvg', 'mofReport', 'mofReportDocument', 'motYamlText',
      'normalizeLicenseId', 'parseCard', 'ROMAN_CLASS', 'parseEvalResults', 'parseMotYaml', 'readProject', 'renderCardHtml', 'scanProject',
      'toModelIndex', 'unfilledSections', 'writeCardSet', 'writeFileAtomic',
    ].sort());
  });

  it('names the 17 MOF components verbatim, as the MOT does', () => {
    expect(card.MOF_COMPONENTS).toHaveLength(17);
    expect(card.componentByName('Model parameters (Final)')).toMatchObject({ id: 10, class: 3, contentType: 'data', required: true });
    expect(card.componentByName('model parameters (final)')).toBeUndefined();
  });

  it('gives the MOF report as attachable bytes with its artifact type', async () => {
    const { makeProject } = await import('./projects.js');
    const view = await card.readProject(await makeProject('class3'), { date: '2026-01-01' });
    const doc = card.mofReportDocument(view.mof);
    expect(doc.artifactType).toBe('application/vnd.modelship.mof.report.v1+json');
    expect(doc.annotations['dev.modelship.mof.class']).toBe('3');
    const report = JSON.parse(new TextDecoder().decode(doc.bytes));
    expect(report).toMatchObject({ class: 3, label: 'Class III - Open Model', framework: { name: 'Model Openness Framework', version: '1.0' } });
    expect(card.classifyMot(report.mot).class).toBe(3);
    // Same project, same bytes.
    const again = card.mofReportDocument((await card.readProject(view.dir, { date: '2026-01-01' })).mof);
    expect(Buffer.from(again.bytes).equals(Buffer.from(doc.bytes))).toBe(true);
    expect(card.modelCardDocument('# x\n')).toMatchObject({ artifactType: 'application/vnd.modelship.card.model.v1+markdown', mediaType: 'text/markdown' });
  });
});
