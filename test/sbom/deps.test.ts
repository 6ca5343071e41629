import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readDependencies } from '../../modules/sbom/index.js';
import { parsePep508, readPackageLock, readPipfileLock, readPyproject, readRequirements, readUvLock } from '../../modules/sbom/deps/index.js';
import { hasCode } from '../../modules/errors/index.js';
import { REQUIREMENTS, REQUIREMENTS_BASE } from './fixtures.js';

let dirs: string[] = [];
async function project(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'sbom-deps-'));
  dirs.push(dir);
  for (const [rel, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await writeFile(path.join(dir, rel), text);
  }
  return dir;
}
afterEach(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  dirs = [];
});

describe('PEP 508', () => {
  it('reads names, extras, specifiers, markers and pins', () => {
    expect(parsePep508('Zope.Interface[docs, test] (>=5, <7) ; python_version >= "3.8"')).toEqual({
      name: 'zope-interface',
      extras: ['docs', 'test'],
      specifier: '>=5,<7',
      marker: 'python_version >= "3.8"',
    });
    expect(parsePep508('torch===2.3.1')?.pinned).toBe('2.3.1');
    expect(parsePep508('numpy==1.*')?.pinned).toBeUndefined();
    expect(parsePep508('pkg @ https://example.com/pkg.whl')).toBeUndefined();
    expect(parsePep508('git+https://github.com/a/b.git')).toBeUndefined();
  });
});

describe('requirements.txt', () => {
  it('reads pins, ranges, extras, comments, continuations, hashes and -r includes', async () => {
    const dir = await project({ 'requirements.txt': REQUIREMENTS, 'requirements-base.txt': REQUIREMENTS_BASE });
    const deps = await readRequirements(path.join(dir, 'requirements.txt'), dir);
    expect(deps.map((d) => [d.name, d.version ?? d.range, d.scope])).toEqual([
      ['torch', '2.3.1', 'required'],
      ['transformers', '>=4.40,<5', 'required'],
      ['numpy', '1.26.4', 'required'],
      ['accelerate', '0.30.0', 'optional'],
      ['pillow', '10.3.0', 'required'],
      ['zope-interface', '6.4', 'required'],
      ['requests', '2.31.0', 'required'],
    ]);
    expect(deps[0]!.sha256).toEqual(['a'.repeat(64)]);
    expect(deps.at(-1)).toMatchObject({ source: 'requirements.txt:9', sha256: ['b'.repeat(64)] });
    expect(deps[4]!.source).toBe('requirements-base.txt:1');
  });

  it('refuses an include outside the project, naming file and line', async () => {
    const dir = await project({ 'app/requirements.txt': 'numpy==1\n-r ../../elsewhere.txt\n' });
    const err = await readRequirements(path.join(dir, 'app/requirements.txt'), path.join(dir, 'app')).catch((e: unknown) => e);
    expect(hasCode(err, 'SBOM_DEPS_INVALID')).toBe(true);
    expect((err as Error).message).toContain('requirements.txt:2');
  });

  it('survives include cycles', async () => {
    const dir = await project({ 'requirements.txt': '-r other.txt\nnumpy==1.0\n', 'other.txt': '-r requirements.txt\nscipy==1.1\n' });
    expect((await readRequirements(path.join(dir, 'requirements.txt'), dir)).map((d) => d.name)).toEqual(['scipy', 'numpy']);
  });
});

describe('pyproject.toml and Python lock files', () => {
  it('reads PEP 621 and Poetry declarations', async () => {
    const dir = await project({
      'pyproject.toml': `[project]\ndependencies = ["Flask>=3", "rich==13.7.1; extra == 'cli'"]\n[project.optional-dependencies]\ngpu = ["cupy>=13"]\n[tool.poetry.dependencies]\npython = "^3.10"\nhttpx = { version = "0.27.0", optional = true }\nlocal = { path = "../local" }\n[tool.poetry.group.dev.dependencies]\nruff = "^0.4"\n`,
    });
    const deps = await readPyproject(path.join(dir, 'pyproject.toml'), 'pyproject.toml');
    expect(deps.map((d) => [d.name, d.version ?? d.range, d.scope])).toEqual([
      ['flask', '>=3', 'required'],
      ['rich', '13.7.1', 'optional'],
      ['cupy', '>=13', 'optional'],
      ['httpx', '0.27.0', 'optional'],
      ['ruff', '^0.4', 'optional'],
    ]);
  });

  it('reports a TOML syntax error with file and line', async () => {
    const dir = await project({ 'pyproject.toml': '[project]\ndependencies = ["a"\nname = 1\n' });
    const err = await readPyproject(path.join(dir, 'pyproject.toml'), 'pyproject.toml').catch((e: unknown) => e);
    expect(hasCode(err, 'SBOM_DEPS_INVALID')).toBe(true);
    expect((err as Error).message).toMatch(/^pyproject\.toml:\d+: not valid TOML/);
  });

  it('reads uv.lock without the project itself, and Pipfile.lock sections', async () => {
    const dir = await project({
      'uv.lock': `version = 1\nrequires-python = ">=3.10"\n\n[[package]]\nname = "numpy"\nversion = "2.0.0"\nsource = { registry = "https://pypi.org/simple" }\nsdist = { url = "https://files.example/numpy-2.0.0.tar.gz", hash = "sha256:${'c'.repeat(64)}", size = 1 }\n\n[[package]]\nname = "me"\nversion = "0.1.0"\nsource = { editable = "." }\ndependencies = [{ name = "numpy" }]\n`,
      'Pipfile.lock': JSON.stringify({ _meta: {}, default: { Requests: { version: '==2.32.3', hashes: ['sha256:' + 'd'.repeat(64)] } }, develop: { black: { version: '==24.4.2', hashes: [] } } }),
    });
    expect(await readUvLock(path.join(dir, 'uv.lock'), 'uv.lock')).toEqual([
      { ecosystem: 'pypi', name: 'numpy', version: '2.0.0', optional: false, source: 'uv.lock', hashes: [{ alg: 'SHA-256', hex: 'c'.repeat(64) }], dependsOn: [] },
    ]);
    const pip = await readPipfileLock(path.join(dir, 'Pipfile.lock'), 'Pipfile.lock');
    expect(pip.map((p) => [p.name, p.version, p.optional])).toEqual([
      ['requests', '2.32.3', false],
      ['black', '24.4.2', true],
    ]);
  });
});

describe('npm', () => {
  it('refuses a v1 lock file with the fix', async () => {
    const dir = await project({ 'package-lock.json': JSON.stringify({ lockfileVersion: 1, dependencies: {} }) });
    const err = await readPackageLock(path.join(dir, 'package-lock.json'), 'package-lock.json').catch((e: unknown) => e);
    expect((err as Error).message).toContain('npm 7 or later');
  });

  it('reads nested node_modules entries and skips links', async () => {
    const dir = await project({
      'package-lock.json': JSON.stringify({
        lockfileVersion: 3,
        packages: {
          '': { name: 'x' },
          'node_modules/a': { version: '1.0.0', dependencies: { b: '^2' } },
          'node_modules/a/node_modules/b': { version: '2.0.0', optional: true },
          'node_modules/w': { resolved: 'packages/w', link: true },
        },
      }),
    });
    const pkgs = await readPackageLock(path.join(dir, 'package-lock.json'), 'package-lock.json');
    expect(pkgs.map((p) => [p.name, p.version, p.optional, p.dependsOn])).toEqual([
      ['a', '1.0.0', false, ['b']],
      ['b', '2.0.0', true, []],
    ]);
  });
});

describe('readDependencies', () => {
  it('uses the lock for exact versions and the manifest for what is direct', async () => {
    const dir = await project({
      'requirements.txt': 'Flask>=3\nnot-locked~=1.2\n',
      'uv.lock': `version = 1\n[[package]]\nname = "flask"\nversion = "3.0.3"\nsource = { registry = "https://pypi.org/simple" }\ndependencies = [{ name = "werkzeug" }]\n[[package]]\nname = "werkzeug"\nversion = "3.0.3"\nsource = { registry = "https://pypi.org/simple" }\n`,
    });
    const deps = await readDependencies(dir);
    expect(deps.map((d) => [d.purl, d.direct, d.versionRange])).toEqual([
      ['pkg:pypi/flask@3.0.3', true, undefined],
      ['pkg:pypi/not-locked', true, '~=1.2'],
      ['pkg:pypi/werkzeug@3.0.3', false, undefined],
    ]);
    expect(deps[0]!.dependsOn).toEqual(['pkg:pypi/werkzeug@3.0.3']);
  });
});
