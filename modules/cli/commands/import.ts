/**
 * `modelship import hf://ORG/NAME[@REVISION]`: a Hugging Face model into the local store as a ModelPack artifact.
 */
import { UsageError } from '../../errors/index.js';
import { connectionFromEnv, importFromHub, parseHubSource } from '../../hub/index.js';
import { openStore } from '../../store/index.js';
import { flagList, flagString, type Command } from '../command.js';
import { newTagReference } from '../plumbing/references.js';

const USAGE = 'import hf://ORG/NAME[@REVISION] [-t NAME:TAG] [--include GLOB ...] [--exclude GLOB ...] [--jobs N]';

export const command: Command = {
  name: 'import',
  summary: 'Import a Hugging Face model (hf://ORG/NAME@REVISION) into the local store as a ModelPack artifact',
  usage: USAGE,
  help: `Resolves the revision (branch, tag or commit; default main) to its commit, lists that commit's
files and streams each one straight into the local store as a raw ModelPack layer: the bytes are
hashed as they arrive and checked against the SHA-256 the Hub lists for LFS files (the layer digest)
or the git blob id for small files, so nothing is read twice and nothing unverified is stored.
A cut download resumes with an HTTP Range request; files download in parallel (--jobs, default 4);
an LFS file already in the store is not downloaded again.

The artifact has the shape "pack" gives: one raw layer per file, the ModelPack config read from
config.json, GGUF/safetensors headers and the model card's front matter (licence, datasets, base
model, pipeline tag), so "mof", "sbom" and "serve" work on it as they are. The source is recorded
as hf://ORG/NAME@SHA (manifest annotation dev.modelship.source), the SBOM names it with the purl
pkg:huggingface/ORG/NAME@SHA. The default tag is org/name:REVISION.

Environment: HF_TOKEN for gated and private repositories (a 401/403 names the page where the
licence is accepted), HF_ENDPOINT for a mirror (default https://huggingface.co).
--include/--exclude take gitignore-style globs (repeatable): .gitattributes is always left out.

Examples:
  modelship import hf://Qwen/Qwen2.5-0.5B-Instruct-GGUF --include '*q4_k_m.gguf' --include README.md --include LICENSE
  modelship import hf://HuggingFaceTB/SmolLM2-135M-Instruct@main -t smollm2:135m --exclude 'onnx/*'
  HF_TOKEN=hf_... modelship import hf://meta-llama/Llama-3.2-1B@4e20de362430cd3b72f300e6b0f18e50e7166e08 --json
  HF_ENDPOINT=https://hf-mirror.example.com modelship import hf://org/model`,
  options: {
    tag: { type: 'string', short: 't' },
    include: { type: 'string', multiple: true },
    exclude: { type: 'string', multiple: true },
    jobs: { type: 'string', short: 'j' },
  },
  async run(ctx) {
    if (ctx.args.length !== 1) throw new UsageError(`expected one hf://ORG/NAME[@REVISION], got ${ctx.args.length} argument(s).\nUsage: modelship ${USAGE}`);
    const source = parseHubSource(ctx.args[0]!);
    const jobsFlag = flagString(ctx, 'jobs');
    const jobs = jobsFlag === undefined ? 4 : Number(jobsFlag);
    if (!Number.isInteger(jobs) || jobs < 1 || jobs > 64) throw new UsageError(`--jobs must be a whole number from 1 to 64, got "${jobsFlag}"`);
    const tagFlag = flagString(ctx, 'tag');
    const tag = tagFlag === undefined ? undefined : newTagReference(tagFlag, '-t');
    const store = openStore(ctx.env, ctx.cwd);
    const result = await importFromHub(source, store.layout, {
      conn: connectionFromEnv(ctx.env),
      include: flagList(ctx, 'include'),
      exclude: flagList(ctx, 'exclude'),
      concurrency: jobs,
      reporter: ctx.reporter,
      ...(tag ? { tag } : {}),
    });
    for (const finding of result.findings) ctx.reporter.note(finding);
    const json = {
      reference: result.tag,
      digest: result.descriptor.digest,
      mediaType: result.descriptor.mediaType,
      source: result.source,
      purl: result.purl,
      repo: result.repo,
      revision: result.revision,
      commit: result.sha,
      layers: result.files.map((f) => ({ path: f.path, kind: f.kind, mediaType: f.layer.mediaType, digest: f.layer.digest, size: f.size, downloaded: f.downloaded, resumed: f.resumed })),
      skipped: result.skipped,
      config: result.config,
    };
    return { json, text: `${result.tag} ${result.descriptor.digest}\nsource ${result.source}` };
  },
};
