/**
 * The raw test client itself: it must catch a server that breaks the framing
 * rules, or every conformance test built on it could pass for a broken server.
 */
import { createHash } from 'node:crypto';
import net from 'node:net';
import { connectRaw } from '../helpers/raw-client';

/** A fake server: answers any handshake with a correct 101, then writes `frames`. */
async function fakeServer(frames: Buffer): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    let head = '';
    socket.on('data', (chunk) => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      const key = /sec-websocket-key: *(\S+)/i.exec(head)![1];
      const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
      socket.end(frames);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

test('rejects nextFrame when the server sends a masked frame', async () => {
  const server = await fakeServer(Buffer.from([0x81, 0x81, 1, 2, 3, 4, 0x61 ^ 1]));
  try {
    const client = await connectRaw(server.port);
    await expect(client.nextFrame()).rejects.toThrow('masked');
    client.destroy();
    await client.closed;
  } finally {
    await server.close();
  }
});

test('parses frames that follow the 101 in the same write, with 16- and 64-bit lengths', async () => {
  const big = Buffer.alloc(70000, 0x62);
  const header64 = Buffer.from([0x82, 0x7f, 0, 0, 0, 0, 0, 0x01, 0x11, 0x70]);
  const server = await fakeServer(Buffer.concat([Buffer.from([0x81, 0x7e, 0x00, 0x7e]), Buffer.alloc(126, 0x61), header64, big]));
  try {
    const client = await connectRaw(server.port);
    const first = await client.nextFrame();
    expect([first.opcode, first.payload.length, first.header.toString('hex')]).toEqual([1, 126, '817e007e']);
    const second = await client.nextFrame();
    expect([second.opcode, second.payload.equals(big)]).toEqual([2, true]);
    await expect(client.nextFrame()).rejects.toThrow('closed');
  } finally {
    await server.close();
  }
});

test('expectClose fails when a data frame comes before the close frame', async () => {
  const server = await fakeServer(Buffer.from([0x81, 0x01, 0x61, 0x88, 0x02, 0x03, 0xe8]));
  try {
    const client = await connectRaw(server.port);
    await expect(client.expectClose()).rejects.toThrow('expected a close frame');
    expect(await client.expectClose()).toEqual({ code: 1000, reason: '' });
  } finally {
    await server.close();
  }
});

test('refuses a 101 whose Sec-WebSocket-Accept does not match the key', async () => {
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    socket.once('data', () => socket.end('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: wrong\r\n\r\n'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await expect(connectRaw((server.address() as net.AddressInfo).port)).rejects.toThrow('handshake failed');
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});
