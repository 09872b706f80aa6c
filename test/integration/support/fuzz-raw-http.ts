import net from 'node:net';

// HTTP/1.1 spoken by hand over a net.Socket, for the fuzz tests: node:http and undici refuse to send
// what a hostile client sends (control bytes in a header, a Content-Length that lies, a body cut off
// mid-way, a request line that is not HTTP at all), and those are exactly the inputs to test.

/** One piece of what the client writes, sent `delayMs` after the previous one. */
export interface RawPiece {
  readonly bytes: Buffer;
  readonly delayMs?: number;
}

/** What the client does once every piece is written. */
export type AfterSending =
  /** Wait for the answer with the connection open (a complete request). */
  | 'wait'
  /** Half-close (FIN): "no more bytes are coming", then wait for whatever the server says. */
  | 'half-close'
  /** Tear the connection down (RST) after `abortAfterMs`: a client that gave up. */
  | 'abort';

export interface RawExchange {
  /** The status of the final (non-1xx) answer; undefined when none arrived. */
  readonly status: number | undefined;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** Milliseconds from connecting to the end of the exchange. */
  readonly elapsedMs: number;
  /** The exchange hit `timeoutMs` with the connection still open: the server neither answered nor closed. */
  readonly timedOut: boolean;
}

export interface RawRequestHead {
  readonly method: string;
  /** The request target exactly as sent, e.g. `/signup?x=%00`. */
  readonly target: string;
  /** Header lines as raw bytes after `name: `, so a value can carry any byte at all. */
  readonly headers: readonly (readonly [string, string | Buffer])[];
}

/**
 * The bytes of a request head: request line, `Host`, the given header lines, blank line. Header values
 * that are strings are sent as UTF-8, so a non-ASCII value arrives as its UTF-8 bytes.
 *
 * @example
 *   requestHead({ method: 'POST', target: '/pay', headers: [['content-length', '2']] });
 */
export function requestHead(head: RawRequestHead): Buffer {
  const lines: Buffer[] = [
    Buffer.from(`${head.method} ${head.target} HTTP/1.1\r\nhost: 127.0.0.1\r\n`, 'latin1'),
  ];
  for (const [name, value] of head.headers) {
    lines.push(
      Buffer.from(`${name}: `, 'latin1'),
      Buffer.isBuffer(value) ? value : Buffer.from(value, 'utf8'),
    );
    lines.push(Buffer.from('\r\n', 'latin1'));
  }
  lines.push(Buffer.from('\r\n', 'latin1'));
  return Buffer.concat(lines);
}

/**
 * Sends `pieces` on a fresh connection to 127.0.0.1:`port` and reads one answer. Resolves (never
 * rejects) once the answer is complete, the server closed the connection, or `timeoutMs` passed.
 *
 * @example
 *   const answer = await rawExchange(port, [{ bytes: requestHead(head) }, { bytes: body }], 'wait');
 *   answer.status; // 400
 */
export async function rawExchange(
  port: number,
  pieces: readonly RawPiece[],
  after: AfterSending,
  options: { timeoutMs?: number; abortAfterMs?: number; bodyless?: boolean } = {},
): Promise<RawExchange> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const startedAt = performance.now();
  const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  const received: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => received.push(chunk));

  let finished = false;
  const ended = new Promise<{ timedOut: boolean }>((resolve) => {
    const timer = setTimeout(() => resolve({ timedOut: true }), timeoutMs);
    const done = (): void => {
      clearTimeout(timer);
      resolve({ timedOut: false });
    };
    // The server closing its side ends the exchange too: allowHalfOpen keeps ours open until we say so.
    socket.once('end', done);
    socket.once('close', done);
    // An answer with a complete body ends the exchange even if the server keeps the connection.
    socket.on('data', () => {
      if (parseAnswer(Buffer.concat(received), options.bodyless).complete) done();
    });
    // A reset or a write after the server closed: the exchange is over, whatever arrived is the answer.
    socket.on('error', done);
  });
  ended.then(
    () => (finished = true),
    () => undefined,
  );

  await new Promise<void>((resolve) => {
    socket.once('connect', resolve);
    socket.once('error', () => resolve());
  });
  for (const piece of pieces) {
    if (finished) break;
    if (piece.delayMs) await new Promise((resolve) => setTimeout(resolve, piece.delayMs));
    if (finished || socket.destroyed) break;
    socket.write(piece.bytes);
  }
  if (after === 'half-close' && !socket.destroyed) socket.end();
  if (after === 'abort') {
    await new Promise((resolve) => setTimeout(resolve, options.abortAfterMs ?? 0));
    socket.resetAndDestroy();
  }
  const { timedOut } = await ended;
  socket.destroy();
  const answer = parseAnswer(Buffer.concat(received), options.bodyless);
  return {
    status: answer.status,
    headers: answer.headers,
    body: answer.body,
    elapsedMs: performance.now() - startedAt,
    timedOut: timedOut && !answer.complete,
  };
}

interface ParsedAnswer {
  readonly status: number | undefined;
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly complete: boolean;
}

/**
 * Parses the final answer out of what arrived, skipping `100 Continue` and other 1xx answers. The answer
 * to HEAD (`bodyless`) has a Content-Length but no body.
 */
function parseAnswer(bytes: Buffer, bodyless = false): ParsedAnswer {
  let rest = bytes;
  for (;;) {
    const headEnd = rest.indexOf('\r\n\r\n');
    if (headEnd === -1) return { status: undefined, headers: {}, body: '', complete: false };
    const [statusLine = '', ...headerLines] = rest.subarray(0, headEnd).toString('latin1').split('\r\n');
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]);
    const afterHead = rest.subarray(headEnd + 4);
    if (status >= 100 && status < 200) {
      rest = afterHead;
      continue;
    }
    const headers: Record<string, string> = {};
    for (const line of headerLines) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = Number(headers['content-length'] ?? Number.NaN);
    const complete = bodyless || (Number.isFinite(length) && afterHead.length >= length);
    return {
      status: Number.isFinite(status) ? status : undefined,
      headers,
      body: bodyless
        ? ''
        : afterHead.subarray(0, Number.isFinite(length) ? length : undefined).toString('utf8'),
      complete,
    };
  }
}
