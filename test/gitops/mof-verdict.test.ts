/**
 * The MOF gate on one evaluation: trace evaluates an artifact once and gates it at the policy's
 * minimum and at --require from that one evaluation, so each class must read the same as a fresh one.
 */
import { describe, expect, it } from 'vitest';
import { mofVerdictOf, type MofEvaluation } from '../../modules/gitops/mof-verdict.js';

const classThree: MofEvaluation = { class: 3, label: 'Class III - Open Model', toAdd: [{ name: 'Research paper', class: 1 }, { name: 'Training code', class: 2 }, { name: 'Data card', class: 2 }] };

describe('mofVerdictOf', () => {
  it('gates one evaluation at any class: passed at its class or a less open one, what is missing for a more open one', () => {
    const label = 'Class III - Open Model';
    expect(mofVerdictOf(classThree, undefined)).toEqual({ class: 3, label });
    expect(mofVerdictOf(classThree, 3)).toEqual({ class: 3, label, require: 3, passed: true });
    // Class I is the most open: a Class III model is below Class II and Class I.
    expect(mofVerdictOf(classThree, 2)).toEqual({ class: 3, label, require: 2, passed: false, missing: ['Training code', 'Data card'] });
    expect(mofVerdictOf(classThree, 1)).toEqual({ class: 3, label, require: 1, passed: false, missing: ['Research paper', 'Training code', 'Data card'] });
    // Unclassified meets no class.
    expect(mofVerdictOf({ class: 0, label: 'unclassified', toAdd: [] }, 3)).toMatchObject({ passed: false, missing: [] });
  });
});
