import type { Request } from 'express';

/**
 * The Express major this run uses: jest's `express4` project maps `express`
 * to the devDependency alias `express4` (express@4), the default project uses express@5.
 */
export const expressMajor = Number((require('express/package.json') as { version: string }).version.split('.')[0]);

/** A path ending in a wildcard, in this major's own syntax: `/files/*` on 4, `/files/*rest` on 5. */
export function wildcardPath(prefix: string): string {
  return expressMajor === 4 ? `${prefix}/*` : `${prefix}/*rest`;
}

/** What the wildcard matched: `req.params[0]` on 4, the `rest` segments joined on 5. */
export function wildcardValue(req: Request): string {
  const params = req.params as Record<string, string | string[] | undefined>;
  const value = expressMajor === 4 ? params[0] : params.rest;
  return Array.isArray(value) ? value.join('/') : String(value);
}

/** Every path, in this major's syntax (for `app.all` guards). */
export const everyPath = expressMajor === 4 ? '*' : '/{*rest}';
