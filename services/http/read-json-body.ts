import type { IncomingMessage } from 'node:http';
import { ClientClosedRequestError, MalformedJsonError, PayloadTooLargeError } from './http-errors.ts';

/**
 * Reads and parses a JSON request body of at most `limitBytes`.
 *
 * Over the limit it stops buffering at once (a declared Content-Length is refused before any byte is
 * read) and rejects with PayloadTooLargeError; the caller answers 413 and closes the connection rather
 * than draining an arbitrarily large upload.
 *
 * @example
 *   const body = await readJsonBody(req, 64 * 1024); // unknown, e.g. { email: 'a@b.c' }
 */
export async function readJsonBody(request: IncomingMessage, limitBytes: number): Promise<unknown> {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > limitBytes) throw new PayloadTooLargeError(limitBytes);

  const text = await new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanUp = (): void => {
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('error', onError);
      request.off('close', onClose);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limitBytes) {
        cleanUp();
        request.pause();
        reject(new PayloadTooLargeError(limitBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanUp();
      resolve(Buffer.concat(chunks, size).toString('utf8'));
    };
    // A request stream errs only when its client went away mid-body (Node's 'aborted', ECONNRESET): an
    // answer nobody reads (499), not an unexpected error. A disconnect may also close without 'end' or
    // 'error'; never wait forever.
    const onClientGone = (error?: Error): void => {
      cleanUp();
      reject(
        new ClientClosedRequestError('client closed the connection before the body was complete', {
          cause: error,
        }),
      );
    };
    const onError = (error: Error): void => onClientGone(error);
    const onClose = (): void => onClientGone();
    request.on('data', onData);
    request.once('end', onEnd);
    request.once('error', onError);
    request.once('close', onClose);
  });

  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new MalformedJsonError(error instanceof Error ? error.message : String(error));
  }
}
