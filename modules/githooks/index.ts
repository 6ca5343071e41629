/**
 * modules/githooks: the git hook door's logic: which model projects a push touches, and installing
 * the hook (through husky, core.hooksPath or .git/hooks) without replacing anyone else's.
 */
export { parsePrePushInput, pushedPaths, projectFolders, touchedProjects } from './touched.js';
export type { PushedRef } from './touched.js';
export { installPrePushHook, prePushScript, repositoryRoot, HOOK_MARKER } from './install.js';
export type { InstalledHook } from './install.js';
