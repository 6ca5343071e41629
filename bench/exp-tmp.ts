import { LayoutTarget, copy, openReference } from '../modules/oci/index.js';
import { startRegistry } from '../test/helpers/registry.js';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
const run = promisify(execFile);
const layout = new LayoutTarget('bench/.work/layout-2048m-8');
const t = async (label: string, f: () => Promise<unknown>) => { const s = Date.now(); await f(); console.log(label, (Date.now() - s) / 1000); };
for (let r = 0; r < 2; r++) {
  const registry = await startRegistry();
  for (const mode of ['monolithic', 'auto'] as const) {
    const dst = (await openReference(`${registry.host}/x/${mode}`, { cwd: '.', env: {}, plainHttp: true, remoteOptions: { uploadMode: mode } })).target;
    await t(mode, () => copy(layout, 'bench', dst, 'v1'));
  }
  await t('skopeo', () => run('skopeo', ['copy', '--quiet', '--preserve-digests', '--dest-tls-verify=false', `oci:${layout.root}:bench`, `docker://${registry.host}/x/skopeo:v1`]));
  await registry.stop();
}
