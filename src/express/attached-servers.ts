/**
 * Which HTTP server each app was attached to, so `attach-ws/testing` can
 * run `request(app)` through the very server (and WsServer options) that
 * `attachWs(app, server, options)` set up. Weak: an app that is dropped
 * takes its entry with it.
 */
import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { WsServer } from '../server/ws-server';

export interface Attachment {
  server: HttpServer | HttpsServer;
  wss: WsServer;
}

const attachments = new WeakMap<object, Attachment>();

/** @internal Called by attachWs; the latest attachment wins. */
export function rememberAttachment(app: object, server: HttpServer | HttpsServer, wss: WsServer): void {
  attachments.set(app, { server, wss });
}

/** @internal The server `attachWs(app, server)` was given, if any. */
export function attachmentOf(app: object): Attachment | undefined {
  return attachments.get(app);
}
