import { coversItsMemory } from '../codec/buffer-view';

/**
 * A message kept beyond the read that produced it (held for a handler,
 * queued for a `for await` loop) must not pin the read chunk it is a view
 * into: a 1-byte binary message read with 64 KiB of pongs would otherwise
 * keep all 64 KiB alive. Views that cover most of their memory are kept;
 * smaller ones are copied. Strings own their memory already.
 */
export function detach<M extends string | Buffer>(message: M): M {
  if (typeof message === 'string') return message;
  const buffer = message as Buffer;
  if (coversItsMemory(buffer)) return message;
  return Buffer.from(buffer) as M;
}
