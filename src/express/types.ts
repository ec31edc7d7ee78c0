import type { IncomingMessage } from 'node:http';
import type { ParamsDictionary, PathParams, Request, RequestHandler, RouteParameters } from 'express-serve-static-core';
import type { RouteOptions } from '../server/options';
import type { WebSocket } from '../socket/websocket';

/**
 * An `app.ws` handler: the open connection and the Express request that
 * upgraded (with `params`, `query`, `cookies`, whatever middleware added).
 * It may be async; messages that arrive before it listens are not lost.
 */
export type WsHandler<P = ParamsDictionary> = (ws: WebSocket, req: Request<P> & IncomingMessage) => unknown;

/** `app.ws(path, ...middleware, handler)`, with `req.params` typed from the path. */
export interface WsRouteMatcher<T> {
  <Route extends string, P = RouteParameters<Route>>(
    path: Route,
    ...handlers: [...middleware: Array<RequestHandler<P>>, handler: WsHandler<P>]
  ): T;
  <Route extends string, P = RouteParameters<Route>>(
    path: Route,
    options: RouteOptions,
    ...handlers: [...middleware: Array<RequestHandler<P>>, handler: WsHandler<P>]
  ): T;
  (path: PathParams, ...handlers: [...middleware: RequestHandler[], handler: WsHandler]): T;
  (path: PathParams, options: RouteOptions, ...handlers: [...middleware: RequestHandler[], handler: WsHandler]): T;
}

declare module 'express-serve-static-core' {
  interface IRouter {
    /**
     * Mount a WebSocket route. Middleware runs on the upgrade request exactly
     * as on a GET; the last function receives the connection.
     *
     * @example
     * app.ws('/chat/:room', requireUser, (ws, req) => {
     *   ws.subscribe(`room:${req.params.room}`);
     * });
     */
    ws: WsRouteMatcher<this>;
  }
}
