/**
 * A registry error ends the process at once: no socket of the failed exchange may keep it alive.
 */
import { execa } from 'execa';
import { describe, expect, inject, it } from 'vitest';
import { CLI_PROCESS } from '../../helpers/cli.js';
import { tempDir } from '../../modelpack/helpers.js';

// Process start-up (tsx compiling the CLI) takes seconds on a loaded machine; the idle timeout that held it was 120 s.
const PROMPT_EXIT_MS = 40_000;

describe('a missing tag on the registry', () => {
  it.each([['inspect'], ['pull'], ['copy']])('%s prints the 404 and exits promptly', async (command) => {
    const home = await tempDir('modelship-exit-');
    const missing = `${inject('registry')}/exit/missing-${Date.now()}:nope`;
    const args = command === 'copy' ? ['copy', missing, `oci:${home}/out:v1`] : [command, missing];
    const started = Date.now();
    const run = await execa(CLI_PROCESS.command, CLI_PROCESS.args([...args, '--plain-http']), {
      env: { MODELSHIP_HOME: home, HOME: home, CI: '1' },
      cwd: home,
      reject: false,
      timeout: PROMPT_EXIT_MS,
    });
    expect(run.timedOut, `still running after ${PROMPT_EXIT_MS} ms`).toBe(false);
    expect(run.exitCode).toBe(4);
    expect(run.stderr).toMatch(/404/);
    expect(Date.now() - started).toBeLessThan(PROMPT_EXIT_MS);
  }, 60_000);
});
