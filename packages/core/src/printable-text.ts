/**
 * FHIR strings carry no control characters except tab, carriage return and line feed, and
 * must be well-formed Unicode. Text echoed from a client (diagnostics, expressions) is made
 * printable so it can always be sent, logged and stored as JSON.
 */

/** True for U+0000–U+001F except tab, LF and CR. */
function isControl(code: number): boolean {
  return code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d;
}

/** True when `text` is well-formed and has no forbidden control character. */
export function isPrintableText(text: string): boolean {
  if (!text.isWellFormed()) return false;
  for (let i = 0; i < text.length; i++) if (isControl(text.charCodeAt(i))) return false;
  return true;
}

/** `text` with broken UTF-16 and forbidden control characters replaced by U+FFFD. */
export function printableText(text: string): string {
  if (isPrintableText(text)) return text; // the usual case: no new string
  const wellFormed = text.toWellFormed();
  let out = '';
  for (const char of wellFormed) out += isControl(char.charCodeAt(0)) ? '\uFFFD' : char;
  return out;
}
