/**
 * Untrusted strings (file names from an artifact, annotations, registry answers) reach the
 * terminal; control characters in them are shown as escapes rather than obeyed.
 */

/** C0 controls except newline and tab, DEL, C1 controls, and the bidirectional overrides that reorder a line. */
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** `text` with every unsafe character written as `\xNN` or `\uNNNN`. */
export function escapeControl(text: string): string {
  return text.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
