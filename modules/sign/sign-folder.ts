/** Sign a plain model folder the way model_signing does, writing `model.sig` atomically. */
import { stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { writeFileAtomic } from '../fs/atomic.js';
import { hashModelFolder, DEFAULT_SIGNATURE_FILE, type HashFolderOptions } from './oms/hash-folder.js';
import { buildOmsStatement, type OmsStatement } from './oms/statement.js';
import { serializeBundle, type SerializedOmsBundle } from './bundle.js';
import { signStatement, type SigningMethod } from './signers.js';

export interface SignFolderOptions extends Omit<HashFolderOptions, 'signatureFile'> {
  signing: SigningMethod;
  /** Where the bundle goes; `model.sig` inside the folder (or beside a single file) unless told. */
  output?: string;
}

export interface SignFolderResult {
  bundlePath: string;
  statement: OmsStatement;
  bundle: SerializedOmsBundle;
}

export async function signModelFolder(modelPath: string, opts: SignFolderOptions): Promise<SignFolderResult> {
  const root = resolve(modelPath);
  const isDir = (await stat(root)).isDirectory();
  const bundlePath = resolve(opts.output ?? join(isDir ? root : dirname(root), DEFAULT_SIGNATURE_FILE));
  const { signing, output: _output, ...hashing } = opts;
  const input = await hashModelFolder(root, { ...hashing, signatureFile: bundlePath });
  const statement = buildOmsStatement(input);
  const bundle = await signStatement(statement, signing);
  await writeFileAtomic(bundlePath, serializeBundle(bundle));
  return { bundlePath, statement, bundle };
}
