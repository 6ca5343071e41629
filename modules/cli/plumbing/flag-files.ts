/** Reads a file a flag names, so the error says which flag pointed at it. */
import { readFile } from 'node:fs/promises';
import { ModelshipError, describeError } from '../../errors/index.js';

export async function readFlagFile(path: string, flag: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new ModelshipError('INPUT_INVALID', `cannot read ${path} given with ${flag}: ${describeError(err)}`, { cause: err });
  }
}
