/**
 * The readable renderings: the MOF badge and the HTML page escape whatever the project says.
 */
import { describe, expect, it } from 'vitest';
import { buildCardSet, mofBadgeSvg, readProject } from '../../modules/card/index.js';
import { makeProject } from './projects.js';

describe('mofBadgeSvg', () => {
  it('shows the class reached, Class III progress, or unclassified', () => {
    expect(mofBadgeSvg({ class: 1, progress: { '1': 100, '2': 100, '3': 100 } })).toContain('>Class I<');
    expect(mofBadgeSvg({ class: 0, progress: { '1': 0, '2': 0, '3': 83.33333333333334 } })).toContain('>Class III 83%<');
    expect(mofBadgeSvg({ class: 0, progress: { '1': 0, '2': 0, '3': 0 } })).toContain('>Unclassified<');
  });
});

describe('card.html', () => {
  it('escapes names and descriptions so the page cannot run anything', async () => {
    const view = await readProject(await makeProject('class3'));
    view.facts.name = '<img src=x onerror=alert(1)>';
    view.facts.description = '"><script>alert(2)</script>';
    const set = buildCardSet(view, { html: true });
    expect(set.html).not.toContain('<img src=x');
    expect(set.html).not.toContain('<script>');
    expect(set.html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(set.html).toContain('&quot;&gt;&lt;script&gt;');
  });
});
