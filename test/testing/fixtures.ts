/**
 * Apps for the tests of attach-ws/testing: an echo route behind a cookie
 * check, and a route that closes with a reason — on a server that never
 * listens (the helper runs them in memory).
 */
import express, { type Express } from 'express';
import http from 'node:http';
import { attachWs, type WebSocket, type WsServer } from 'attach-ws';

export interface EchoApp {
  app: Express;
  server: http.Server;
  wss: WsServer;
  /** Resolves with each server-side connection's close code, in order. */
  closes: Array<Promise<number>>;
}

export function echoApp(): EchoApp {
  const app = express();
  const server = http.createServer(app);
  const wss = attachWs(app, server);
  const closes: Array<Promise<number>> = [];
  const track = (ws: WebSocket): void => {
    closes.push(new Promise((resolve) => ws.once('close', (code) => resolve(code))));
  };
  app.use('/private', (req, res, next) => {
    if (req.headers.cookie === 'nick=ann') next();
    else res.status(401).send('who are you?');
  });
  app.ws('/echo', (ws) => {
    track(ws);
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
  app.ws('/private/welcome', (ws, req) => {
    track(ws);
    ws.send(JSON.stringify({ type: 'welcome', cookie: req.headers.cookie, ip: req.ip }));
    ws.on('message', (data) => ws.send(`you said ${String(data)}`));
  });
  app.ws('/kick', (ws) => {
    track(ws);
    ws.send('go away');
    ws.close(4001, 'kicked');
  });
  app.ws('/heartbeat', (ws) => {
    track(ws);
    ws.on('pong', (data) => ws.send(`pong ${data.toString()}`));
    ws.ping('hb');
  });
  app.ws('/silent', (ws) => {
    track(ws);
  });
  return { app, server, wss, closes };
}
