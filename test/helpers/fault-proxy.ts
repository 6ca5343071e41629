/**
 * An HTTP proxy on loopback, in front of a real registry, that a test steers request by request:
 * pass through, answer itself, never answer, drop the connection, cut a request or response body after N bytes,
 * or corrupt a response. It counts the request body bytes it forwarded, to prove resumes.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';

export interface SeenRequest {
  method: string;
  /** Path and query as received. */
  url: string;
  headers: http.IncomingHttpHeaders;
  /** 0-based position among all requests the proxy received. */
  index: number;
}

export type FaultAction =
  | { kind: 'pass'; /** Added to the registry's response, e.g. headers a newer registry sends. */ addHeaders?: Record<string, string> }
  | { kind: 'respond'; status: number; headers?: Record<string, string>; body?: string }
  | { kind: 'drop' }
  | { kind: 'hang' }
  | { kind: 'cutRequest'; afterBytes: number }
  | { kind: 'cutResponse'; afterBytes: number }
  | { kind: 'corruptResponse' };

export interface LoggedExchange {
  method: string;
  url: string;
  status?: number;
  action: FaultAction['kind'];
  requestBytes: number;
}

export interface FaultProxy {
  /** host:port to give the client. */
  host: string;
  /** Decide what happens to each request; return undefined to pass it through. */
  rule: (req: SeenRequest) => FaultAction | undefined;
  log: LoggedExchange[];
  /** Request body bytes forwarded to the registry, in all. */
  forwardedBytes(): number;
  stop(): Promise<void>;
}

export async function startFaultProxy(upstream: string): Promise<FaultProxy> {
  const [upstreamHost, upstreamPort] = upstream.split(':') as [string, string];
  const agent = new http.Agent({ keepAlive: true });
  let count = 0;
  let forwarded = 0;
  const proxy: FaultProxy = {
    host: '',
    rule: () => undefined,
    log: [],
    forwardedBytes: () => forwarded,
    stop: async () => {
      agent.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const seen: SeenRequest = { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, index: count++ };
    const action = proxy.rule(seen) ?? { kind: 'pass' };
    const entry: LoggedExchange = { method: seen.method, url: seen.url, action: action.kind, requestBytes: 0 };
    proxy.log.push(entry);
    if (action.kind === 'drop') {
      req.socket.destroy();
      return;
    }
    if (action.kind === 'hang') {
      req.resume();
      return;
    }
    if (action.kind === 'respond') {
      req.resume();
      entry.status = action.status;
      res.writeHead(action.status, { 'Content-Type': 'application/json', ...action.headers });
      res.end(action.body ?? '');
      return;
    }
    const upstreamReq = http.request({ host: upstreamHost, port: Number(upstreamPort), method: req.method, path: req.url, headers: req.headers, agent });
    upstreamReq.on('error', () => res.destroy());
    upstreamReq.on('response', (up) => {
      entry.status = up.statusCode;
      res.writeHead(up.statusCode ?? 502, { ...up.headers, ...(action.kind === 'pass' ? action.addHeaders : {}) });
      let sent = 0;
      let corrupted = false;
      up.on('data', (chunk: Buffer) => {
        if (action.kind === 'cutResponse') {
          const room = action.afterBytes - sent;
          if (room <= 0) return;
          if (chunk.length >= room) {
            res.write(chunk.subarray(0, room));
            sent += room;
            // Let the partial body reach the client, then cut the connection.
            setTimeout(() => res.socket?.destroy(), 20);
            up.destroy();
            return;
          }
        }
        if (action.kind === 'corruptResponse' && !corrupted && chunk.length > 0) {
          chunk = Buffer.from(chunk);
          chunk[0] = chunk[0]! ^ 0xff;
          corrupted = true;
        }
        sent += chunk.length;
        res.write(chunk);
      });
      up.on('end', () => res.end());
    });
    req.on('data', (chunk: Buffer) => {
      if (action.kind === 'cutRequest') {
        const room = action.afterBytes - entry.requestBytes;
        if (room <= 0) return;
        if (chunk.length >= room) {
          upstreamReq.write(chunk.subarray(0, room));
          entry.requestBytes += room;
          forwarded += room;
          upstreamReq.destroy();
          req.socket.destroy();
          return;
        }
      }
      entry.requestBytes += chunk.length;
      forwarded += chunk.length;
      upstreamReq.write(chunk);
    });
    req.on('end', () => upstreamReq.end());
    req.on('error', () => upstreamReq.destroy());
  };

  const server = http.createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  proxy.host = `127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  return proxy;
}
