import type { ExtensionOffer } from '../../../../src/codec/extension-offer';

/**
 * Test-only reading of a `Sec-WebSocket-Extensions` value into offers
 * (the real parser lives elsewhere): `a; p; q=1, b` → two offers.
 * Quoted values are unquoted; no quoted commas or semicolons.
 */
export function parseOffers(header: string): ExtensionOffer[] {
  if (header.trim() === '') return [];
  return header.split(',').map((part) => {
    const [name = '', ...params] = part.split(';').map((s) => s.trim());
    return {
      name,
      params: params.map((param): readonly [string, string | true] => {
        const eq = param.indexOf('=');
        if (eq === -1) return [param, true];
        return [param.slice(0, eq).trim(), param.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1')];
      }),
    };
  });
}
