/**
 * Starts Debian's `docker-registry` (CNCF distribution 2.8) on loopback for tests: anonymous,
 * htpasswd Basic, or token auth, over HTTP or TLS. Each instance has its own storage and port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RegistryOptions {
  /** htpasswd file contents (bcrypt entries) for Basic auth. */
  htpasswd?: string;
  /** Token auth: the registry trusts JWTs signed by a key certified by `rootCertPem`. */
  token?: { realm: string; service: string; issuer: string; rootCertPem: string };
  /** Serve TLS with this certificate and key (PEM). */
  tls?: { certPem: string; keyPem: string };
  /** Answer with relative Location headers (distribution's `http.relativeurls`). */
  relativeUrls?: boolean;
}

export interface RunningRegistry {
  /** host:port */
  host: string;
  url: string;
  root: string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export async function startRegistry(options: RegistryOptions = {}): Promise<RunningRegistry> {
  const root = await mkdtemp(join(tmpdir(), 'modelship-registry-'));
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const lines = [
    'version: 0.1',
    'log:',
    '  level: error',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${join(root, 'data')}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: ${host}`,
  ];
  if (options.relativeUrls) lines.push('  relativeurls: true');
  if (options.tls) {
    await writeFile(join(root, 'cert.pem'), options.tls.certPem);
    await writeFile(join(root, 'key.pem'), options.tls.keyPem);
    lines.push('  tls:', `    certificate: ${join(root, 'cert.pem')}`, `    key: ${join(root, 'key.pem')}`);
  }
  if (options.htpasswd) {
    await writeFile(join(root, 'htpasswd'), options.htpasswd);
    lines.push('auth:', '  htpasswd:', '    realm: modelship-test', `    path: ${join(root, 'htpasswd')}`);
  } else if (options.token) {
    await writeFile(join(root, 'token-root.pem'), options.token.rootCertPem);
    lines.push(
      'auth:',
      '  token:',
      `    realm: ${options.token.realm}`,
      `    service: ${options.token.service}`,
      `    issuer: ${options.token.issuer}`,
      `    rootcertbundle: ${join(root, 'token-root.pem')}`,
    );
  }
  await writeFile(join(root, 'config.yml'), lines.join('\n') + '\n');
  const child = spawn('docker-registry', ['serve', join(root, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const scheme = options.tls ? 'https' : 'http';
  await waitUntilListening(child, port, () => stderr);
  return {
    host,
    url: `${scheme}://${host}`,
    root,
    async stop() {
      await stopProcess(child);
      await rm(root, { recursive: true, force: true });
    },
  };
}

async function waitUntilListening(child: ChildProcess, port: number, stderr: () => string): Promise<void> {
  const { connect } = await import('node:net');
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited with ${child.exitCode}: ${stderr()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`docker-registry did not listen on ${port} within 15 s: ${stderr()}`);
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 3000).unref();
  });
}
