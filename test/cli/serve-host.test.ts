/**
 * `serve --host 0.0.0.0` names the addresses other machines reach it on, not only the loopback URL
 * the server itself reports.
 */
import { describe, expect, it } from 'vitest';
import { announce, externalUrls } from '../../modules/cli/plumbing/serving.js';
import type { CommandContext } from '../../modules/cli/command.js';
import { captureStream } from '../helpers/cli.js';

const interfaces = {
  lo: [{ address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4' as const, mac: '00:00:00:00:00:00', internal: true, cidr: '127.0.0.1/8' }],
  eth0: [
    { address: '10.1.2.3', netmask: '255.255.255.0', family: 'IPv4' as const, mac: '02:00:00:00:00:01', internal: false, cidr: '10.1.2.3/24' },
    { address: 'fd00::5', netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6' as const, mac: '02:00:00:00:00:01', internal: false, cidr: 'fd00::5/64', scopeid: 0 },
  ],
};

describe('serve --host', () => {
  it('lists the external addresses of a server bound to every interface, and none for one address', () => {
    expect(externalUrls('0.0.0.0', 'http://127.0.0.1:8080/v1', interfaces)).toEqual(['http://10.1.2.3:8080/v1']);
    expect(externalUrls('::', 'http://[::1]:8080/v1', interfaces)).toEqual(['http://10.1.2.3:8080/v1', 'http://[fd00::5]:8080/v1']);
    expect(externalUrls('127.0.0.1', 'http://127.0.0.1:8080/v1', interfaces)).toEqual([]);
  });

  it('prints the reachable URLs with the loopback one (and in --json)', () => {
    const out = captureStream();
    const err = captureStream();
    const ctx = { json: false, stdout: out.stream, stderr: err.stream } as unknown as CommandContext;
    announce(ctx, { url: 'http://127.0.0.1:8080/v1', model: 'tiny', engine: 'native', backend: 'cpu' }, '0.0.0.0');
    expect(out.text).toMatch(/^Listening on 0\.0\.0\.0: (reachable at http:\/\/[^ ]+:8080\/v1|every interface \(this machine has no external address\))\nServing tiny at http:\/\/127\.0\.0\.1:8080\/v1/);
    const json = captureStream();
    announce({ ...ctx, json: true, stdout: json.stream } as CommandContext, { url: 'http://127.0.0.1:8080/v1', model: 'tiny', engine: 'native', backend: 'cpu' }, '0.0.0.0');
    expect(JSON.parse(json.text)).toMatchObject({ url: 'http://127.0.0.1:8080/v1', host: '0.0.0.0' });
  });
});
