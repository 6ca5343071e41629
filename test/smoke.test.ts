import { describe, expect, it, inject } from 'vitest';
import { main } from '../modules/cli/main.js';
import { Writable } from 'node:stream';

function capture() {
  let text = '';
  const stream = new Writable({
    write(chunk, _enc, cb) {
      text += chunk.toString();
      cb();
    },
  });
  return { stream, get text() { return text; } };
}

describe('cli', () => {
  it('prints help and exits 0', async () => {
    const out = capture();
    const code = await main(['--help'], { stdout: out.stream, stderr: capture().stream });
    expect(code).toBe(0);
    expect(out.text).toContain('Usage: modelship <command>');
  });
  it('rejects an unknown command with exit 2', async () => {
    const err = capture();
    const code = await main(['nope'], { stdout: capture().stream, stderr: err.stream });
    expect(code).toBe(2);
    expect(err.text).toContain('unknown command "nope"');
  });
  it('has a registry on loopback', async () => {
    const res = await fetch(`http://${inject('registry')}/v2/`);
    expect(res.status).toBe(200);
  });
});
