import { describe, expect, it } from 'vitest';
import { formatReference, parseReference } from '../../modules/oci/index.js';
import { ModelshipError } from '../../modules/errors/index.js';

const digest = `sha256:${'a'.repeat(64)}`;

describe('parseReference', () => {
  it.each([
    ['oci:./layout', { kind: 'layout', path: './layout' }],
    ['oci:./layout:v1', { kind: 'layout', path: './layout', tag: 'v1' }],
    ['oci:/tmp/a:b/c', { kind: 'layout', path: '/tmp/a:b/c' }],
    ['oci:/tmp/x:y:v2', { kind: 'layout', path: '/tmp/x:y', tag: 'v2' }],
    [`oci:dir@${digest}`, { kind: 'layout', path: 'dir', digest }],
    ['127.0.0.1:5000/models/llama:v1', { kind: 'remote', registry: '127.0.0.1:5000', repository: 'models/llama', tag: 'v1' }],
    ['localhost/a', { kind: 'remote', registry: 'localhost', repository: 'a' }],
    [`ghcr.io/org/model@${digest}`, { kind: 'remote', registry: 'ghcr.io', repository: 'org/model', digest }],
    [`ghcr.io/org/model:v1@${digest}`, { kind: 'remote', registry: 'ghcr.io', repository: 'org/model', tag: 'v1', digest }],
    ['ubuntu', { kind: 'remote', registry: 'docker.io', repository: 'library/ubuntu' }],
    ['user/repo:tag', { kind: 'remote', registry: 'docker.io', repository: 'user/repo', tag: 'tag' }],
    ['127.0.0.1:65535/x', { kind: 'remote', registry: '127.0.0.1:65535', repository: 'x' }],
    ['[::1]:5000/x', { kind: 'remote', registry: '[::1]:5000', repository: 'x' }],
    ['index.docker.io/ubuntu', { kind: 'remote', registry: 'docker.io', repository: 'library/ubuntu' }],
    ['docker://reg.example.com:443/a__b/c-d.e:1.0', { kind: 'remote', registry: 'reg.example.com:443', repository: 'a__b/c-d.e', tag: '1.0' }],
  ])('parses %s', (input, expected) => {
    expect(parseReference(input)).toEqual(expected);
  });

  it.each([
    ['', 'empty'],
    ['oci:', 'layout path is empty'],
    ['oci:dir@sha256:abc', 'not a valid digest'],
    ['127.0.0.1:5000/Models/x', 'must be lowercase'],
    ['127.0.0.1:5000/models/x:-bad', 'not a valid tag'],
    ['127.0.0.1:5000/a//b', 'repository component ""'],
    ['https://ghcr.io/a/b', 'URL scheme'],
    [`ghcr.io/a@sha256:${'g'.repeat(64)}`, 'not a valid digest'],
    ['bad_host.io:x/a', 'not a valid registry host'],
    ['127.0.0.1:99999/x:v1', 'port 99999 is outside 1-65535'],
    ['localhost:0/x', 'port 0 is outside 1-65535'],
    ['[::1]:65536/x', 'port 65536 is outside 1-65535'],
  ])('rejects %j with the accepted forms', (input, why) => {
    let caught: unknown;
    try {
      parseReference(input);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ModelshipError);
    const err = caught as ModelshipError;
    expect(err.code).toBe('OCI_INVALID_REFERENCE');
    expect(err.message).toContain(`"${input}"`);
    expect(err.message).toContain(why);
    expect(err.message).toContain('oci:PATH[:TAG|@DIGEST]');
    expect(err.message).toContain('HOST[:PORT]/REPO[:TAG|@DIGEST]');
  });

  it('formats what it parses', () => {
    for (const input of ['oci:./layout:v1', `oci:dir@${digest}`, '127.0.0.1:5000/models/llama:v1', `ghcr.io/org/model@${digest}`]) {
      expect(formatReference(parseReference(input))).toBe(input);
    }
  });
});
