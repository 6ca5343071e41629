/**
 * `modelship hooks install [DIR]`: set up the pre-push hook; `modelship hooks run pre-push REMOTE
 * URL`: what the hook runs, the local pipeline on each model project the push touches.
 */
import path from 'node:path';
import { text as readAll } from 'node:stream/consumers';
import { EXIT_STATUS, UsageError } from '../../errors/index.js';
import { installPrePushHook, parsePrePushInput, pushedPaths, repositoryRoot, touchedProjects } from '../../githooks/index.js';
import { LOCAL_STEPS, runPipeline, type PipelineResult } from '../../pipeline/index.js';
import { flagBoolean, type Command, type CommandContext, type CommandResult } from '../command.js';
import { pipelineContextOf, pipelineExitCode, pipelineText } from '../plumbing/pipeline.js';

async function install(ctx: CommandContext): Promise<CommandResult> {
  const hook = await installPrePushHook(path.resolve(ctx.cwd, ctx.args[1] ?? '.'), { force: flagBoolean(ctx, 'force'), ...(ctx.invocation ? { invocation: ctx.invocation } : {}) });
  const how = hook.via === 'husky' ? 'through husky' : hook.via === 'core.hooksPath' ? 'in core.hooksPath' : 'in .git/hooks';
  const runs = hook.command ? `it runs ${hook.command.at(-1)} (as it was run now), else "modelship" from PATH` : 'it runs "modelship" from PATH or node_modules/.bin';
  return {
    json: hook,
    text: `${hook.changed ? 'installed' : 'already installed:'} ${hook.file} (${how}); ${runs}\nEach push that touches a model now runs "modelship check"; skip it once with HUSKY=0 git push.`,
  };
}

async function prePush(ctx: CommandContext): Promise<CommandResult> {
  const remote = ctx.args[2] ?? 'origin';
  const root = await repositoryRoot(ctx.cwd);
  const changed = await pushedPaths(root, remote, parsePrePushInput(await readAll(ctx.stdin)));
  const projects = changed.length ? await touchedProjects(root, changed) : [];
  if (!projects.length) return { json: { projects: [], ok: true }, text: '' };
  const results: Array<PipelineResult & { project: string }> = [];
  for (const dir of projects) {
    const result = await runPipeline(await pipelineContextOf(ctx, dir), { steps: LOCAL_STEPS });
    results.push({ project: path.relative(root, dir) || '.', ...result });
    if (!result.ok) break;
  }
  const failed = results.find((r) => !r.ok);
  const lines = results.flatMap((r) => [`modelship check ${r.project}`, pipelineText(r)]);
  if (failed) lines.push(`push refused: fix ${failed.project} and push again (or skip the check once: HUSKY=0 git push)`);
  return { json: { projects: results, ok: !failed }, text: lines.join('\n'), ...(failed ? { exitCode: pipelineExitCode(failed) || EXIT_STATUS.failure } : {}) };
}

export const command = {
  name: 'hooks',
  summary: 'Install the git pre-push hook that runs "modelship check" on pushes touching a model',
  usage: 'hooks install [DIR] [--force] | hooks run pre-push REMOTE URL',
  help: `"hooks install" sets up a pre-push hook in the git repository holding DIR (default: the current
folder), where git runs it ("git rev-parse --git-path hooks/pre-push": core.hooksPath or
.git/hooks), or in husky's folder when core.hooksPath points at husky's runner. The hook records
the command line that installed it (node and the script's absolute path), so it runs even when
modelship is not on PATH; when that command is gone and none is found, it refuses the push. A
pre-push hook modelship did not write is left alone unless --force is given.

On each push the hook finds the model projects (folders with modelship.yaml, a Kitfile or a
Modelfile) whose files the pushed commits change, and runs "modelship check" on each: pack, SBOM,
cards, MOF gate, sign, verify. A failing step refuses the push; a push that touches no model costs
a git call. HUSKY=0 or MODELSHIP_HOOKS=0 skips the hook once; MODELSHIP_SIGNING_KEY names the key.

"hooks run pre-push REMOTE URL" is what the hook calls, with git's ref lines on standard input.

Examples:
  modelship hooks install
  HUSKY=0 git push`,
  options: { force: { type: 'boolean' } },
  async run(ctx) {
    const [verb, hook] = ctx.args;
    if (verb === 'install') return install(ctx);
    if (verb === 'run' && hook === 'pre-push') return prePush(ctx);
    throw new UsageError(`usage: modelship ${command.usage}`);
  },
} satisfies Command;
