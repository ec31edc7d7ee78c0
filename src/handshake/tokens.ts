/** RFC 7230 §3.2.6: token = 1*tchar. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Whether `value` is an RFC 7230 token. */
export function isToken(value: string): boolean {
  return TOKEN.test(value);
}

/** Whether `c` (one character) may appear in a token. */
export function isTokenChar(c: string): boolean {
  return c.length === 1 && TOKEN.test(c);
}

/** RFC 7230 §3.2.3: OWS = *( SP / HTAB ). */
export function isOws(c: string | undefined): boolean {
  return c === ' ' || c === '\t';
}

/** Trim optional whitespace (SP / HTAB only; other whitespace is not OWS). */
export function trimOws(value: string): string {
  return value.replace(/^[ \t]+|[ \t]+$/g, '');
}

/**
 * The elements of an RFC 7230 §7 comma list, OWS trimmed, empty elements
 * dropped ("a recipient MUST parse and ignore a reasonable number of empty
 * list elements").
 */
export function listElements(value: string): string[] {
  const elements: string[] = [];
  for (const part of value.split(',')) {
    const element = trimOws(part);
    if (element !== '') elements.push(element);
  }
  return elements;
}

/** Whether the comma list `value` contains `token`, compared case-insensitively. */
export function listHasToken(value: string | undefined, token: string): boolean {
  if (value === undefined) return false;
  const wanted = token.toLowerCase();
  return listElements(value).some((element) => element.toLowerCase() === wanted);
}
