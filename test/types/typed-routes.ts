// Type test (compiled by `npm run lint` against @types/express 5, and by
// test/types/tsconfig.express4.json against @types/express 4): app.ws and
// router.ws type `req.params` from the path literal on both majors.
// `npm run test:package` compiles this same file against the packed tarball.
import express from 'express';
import http from 'node:http';
import { attachWs, type WebSocket } from 'attach-ws';

const app = express();
const server = http.createServer(app);
const wss = attachWs(app, server, { maxPayload: 1024 });

app.ws('/rooms/:room/users/:user', (ws: WebSocket, req) => {
  const room: string = req.params.room;
  const user: string = req.params.user;
  // @ts-expect-error the path has no :nope parameter
  void req.params.nope;
  ws.send(room + user);
});

const router = express.Router();
router.ws('/feed/:id', { maxPayload: 16 }, (_req, _res, next) => next(), (ws, req) => ws.send(req.params.id));
app.use('/api', router);
wss.on('connection', (ws) => ws.subscribe('all'));
