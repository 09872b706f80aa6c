import type { ServerResponse } from 'node:http';
import type { JsonReply } from './router.ts';

/**
 * A reply body written as it is rather than as JSON, with its own content type: GET /metrics answers the
 * Prometheus text format. Every other answer, errors included, stays JSON.
 *
 * @example
 *   return { status: 200, body: new TextBody('up 1\n', 'text/plain; version=0.0.4; charset=utf-8') };
 */
export class TextBody {
  readonly text: string;
  readonly contentType: string;
  constructor(text: string, contentType: string) {
    this.text = text;
    this.contentType = contentType;
  }
}

/**
 * Writes a reply, JSON unless its body is a {@link TextBody}, unless the connection is already gone (the
 * client gave up; nobody is listening).
 *
 * @example
 *   sendJson(res, { status: 201, body: { userId } });
 */
export function sendJson(response: ServerResponse, reply: JsonReply): void {
  if (response.headersSent || response.destroyed || response.writableEnded) return;
  const text = reply.body instanceof TextBody ? reply.body : undefined;
  const payload = text ? text.text : JSON.stringify(reply.body);
  response.writeHead(reply.status, {
    ...reply.headers,
    'content-type': text ? text.contentType : 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
  });
  response.end(payload);
}
