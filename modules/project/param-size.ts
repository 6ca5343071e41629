/** ModelPack paramSize grammar: <number><Q|T|B|M|K> (the schema does not enforce it; we do). */
export const PARAM_SIZE_PATTERN = /^[0-9]+(\.[0-9]+)?[QTBMK]$/i;

/** A parameter count as ModelPack writes it: 7241732096 → "7.2B", 124439808 → "124M". */
export function formatParamCount(count: number): string {
  const units: [number, string][] = [[1e15, 'Q'], [1e12, 'T'], [1e9, 'B'], [1e6, 'M'], [1e3, 'K']];
  for (const [size, suffix] of units) {
    if (count >= size) {
      const scaled = count / size;
      return `${Number(scaled.toFixed(scaled >= 100 ? 0 : 1))}${suffix}`;
    }
  }
  // Under a thousand still needs a unit: 58 → "0.058K" (three decimals keep every whole count).
  return `${Number((count / 1e3).toFixed(3))}K`;
}
