import { describe, expect, it } from 'vitest';
import { commandHelp } from '../../modules/cli/main.js';
import { COMMANDS } from '../../modules/cli/registry.js';

describe('command help', () => {
  for (const entry of COMMANDS) {
    it(`${entry.name}: the registry and the command say the same, with examples`, async () => {
      const { command } = await entry.load();
      expect(command.name).toBe(entry.name);
      expect(command.summary).toBe(entry.summary);
      const help = commandHelp(command);
      expect(help).toContain(`Usage: modelship ${entry.name}`);
      expect(help).toMatch(/Examples?:/);
      expect(help).toContain(`modelship ${entry.name} `);
    });
  }
});
