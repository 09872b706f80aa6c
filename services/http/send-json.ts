import type { ServerResponse } from 'node:http';
import type { JsonReply } from './router.ts';

/**
 * Writes a JSON reply unless the connection is already gone (the client gave up; nobody is listening).
 *
 * @example
 *   sendJson(res, { status: 201, body: { userId } });
 */
export function sendJson(response: ServerResponse, reply: JsonReply): void {
  if (response.headersSent || response.destroyed || response.writableEnded) return;
  const payload = JSON.stringify(reply.body);
  response.writeHead(reply.status, {
    ...reply.headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
  });
  response.end(payload);
}
