/** The file names a project's spec may have, in the order they are looked for. */
export const MODELSHIP_FILE = 'modelship.yaml';
export const KITFILE_NAMES = ['Kitfile', 'kitfile', '.kitfile'];
export const MODELFILE_NAMES = ['Modelfile'];
export const SPEC_FILE_NAMES = [MODELSHIP_FILE, 'modelship.yml', ...KITFILE_NAMES, ...MODELFILE_NAMES];
