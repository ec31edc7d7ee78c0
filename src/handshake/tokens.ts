/**
 * RFC 7230 token and list helpers. Everything here reads peer input, so
 * everything is a single forward scan: no regex that can backtrack, time
 * linear in the header's length (a 16 KiB header of spaces costs 16× a 1 KiB
 * one, not 256×; cf. ws's CVE-2021-32640).
 */

/** RFC 7230 §3.2.6: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA. */
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") TCHAR[c.charCodeAt(0)] = 1;

function isTcharCode(code: number): boolean {
  return code < 128 && TCHAR[code] === 1;
}

/** Whether `value` is an RFC 7230 token (token = 1*tchar). */
export function isToken(value: string): boolean {
  if (value.length === 0) return false;
  for (let i = 0; i < value.length; i++) if (!isTcharCode(value.charCodeAt(i))) return false;
  return true;
}

/** Whether `c` (one character) may appear in a token. */
export function isTokenChar(c: string): boolean {
  return c.length === 1 && isTcharCode(c.charCodeAt(0));
}

/** RFC 7230 §3.2.3: OWS = *( SP / HTAB ). */
export function isOws(c: string | undefined): boolean {
  return c === ' ' || c === '\t';
}

function isOwsCode(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

/** Trim optional whitespace (SP / HTAB only; other whitespace is not OWS). */
export function trimOws(value: string): string {
  return trimmedSlice(value, 0, value.length);
}

/** `value.slice(start, end)` without the OWS at either end. */
function trimmedSlice(value: string, start: number, end: number): string {
  while (start < end && isOwsCode(value.charCodeAt(start))) start++;
  while (end > start && isOwsCode(value.charCodeAt(end - 1))) end--;
  return value.slice(start, end);
}

/**
 * The elements of an RFC 7230 §7 comma list, OWS trimmed, empty elements
 * dropped ("a recipient MUST parse and ignore a reasonable number of empty
 * list elements"). Each character is visited at most twice.
 */
export function listElements(value: string): string[] {
  const elements: string[] = [];
  let start = 0;
  for (;;) {
    let end = value.indexOf(',', start);
    if (end === -1) end = value.length;
    const element = trimmedSlice(value, start, end);
    if (element !== '') elements.push(element);
    if (end === value.length) return elements;
    start = end + 1;
  }
}

/** Whether the comma list `value` contains `token`, compared case-insensitively. */
export function listHasToken(value: string | undefined, token: string): boolean {
  if (value === undefined) return false;
  const wanted = token.toLowerCase();
  return listElements(value).some((element) => element.length === wanted.length && element.toLowerCase() === wanted);
}
