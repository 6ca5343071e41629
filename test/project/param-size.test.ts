import { describe, expect, it } from 'vitest';
import { formatParamCount, PARAM_SIZE_PATTERN } from '../../modules/project/param-size.js';

describe('formatParamCount', () => {
  it('writes every count in the ModelPack grammar, small models too', () => {
    expect(formatParamCount(7_241_732_096)).toBe('7.2B');
    expect(formatParamCount(124_439_808)).toBe('124M');
    expect(formatParamCount(116_000)).toBe('116K');
    expect(formatParamCount(58)).toBe('0.058K');
    expect(formatParamCount(1)).toBe('0.001K');
    for (const n of [1, 58, 999, 1000, 12_345, 9e15]) expect(formatParamCount(n)).toMatch(PARAM_SIZE_PATTERN);
  });
});
