// Validates workflow and action files with GitHub's own parser (@actions/workflow-parser), and prints
// {file: [errors]} as JSON. Run through tsx: under Node 20 the parser's JSON imports need its loader.
import { readFileSync } from 'node:fs';
import { NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser';
import { parseAction } from '@actions/workflow-parser/actions/action-parser';

const result: Record<string, string[]> = {};
for (const file of process.argv.slice(2)) {
  const content = readFileSync(file, 'utf8');
  const parsed = /(^|\/)action\.ya?ml$/.test(file)
    ? parseAction({ name: file, content }, new NoOperationTraceWriter())
    : parseWorkflow({ name: file, content }, new NoOperationTraceWriter());
  result[file] = parsed.context.errors.getErrors().map((e: { message: string }) => e.message);
}
process.stdout.write(JSON.stringify(result));
