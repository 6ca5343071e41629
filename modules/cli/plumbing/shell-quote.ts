/** Kept for the commands that import it from here; the function lives in modules/text. */
export { shellQuote } from '../../text/shell-quote.js';
