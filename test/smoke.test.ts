import { describe, expect, it, inject } from 'vitest';
import { runCli } from './helpers/cli.js';

describe('cli', () => {
  it('prints help and exits 0', async () => {
    const { code, stdout } = await runCli(['--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('Usage: modelship <command>');
  });
  it('rejects an unknown command with exit 2', async () => {
    const { code, stderr } = await runCli(['nope']);
    expect(code).toBe(2);
    expect(stderr).toContain('unknown command "nope"');
  });
  it('has a registry on loopback', async () => {
    const res = await fetch(`http://${inject('registry')}/v2/`);
    expect(res.status).toBe(200);
  });
});
