/** Sign a plain model folder the way model_signing does, writing `model.sig` atomically. */
import { open, rename, unlink } from 'node:fs/promises';
import { dirname, join, basename, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
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

/** Write beside the target, then rename: readers never see half a file. */
export async function writeFileAtomic(path: string, text: string, mode = 0o644): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(tmp, 'wx', mode);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } catch (err) {
    await handle.close();
    await unlink(tmp).catch(() => {});
    throw err;
  }
  await handle.close();
  try {
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
}
