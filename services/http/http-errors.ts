/**
 * Errors raised by the HTTP plumbing itself, each with a stable `code` that error-reply.ts maps to a
 * status. Domain errors follow the same pattern in their own packages.
 */
export class MalformedJsonError extends Error {
  readonly code = 'MALFORMED_JSON';
  override name = 'MalformedJsonError';
}

export class PayloadTooLargeError extends Error {
  readonly code = 'PAYLOAD_TOO_LARGE';
  override name = 'PayloadTooLargeError';
  readonly limitBytes: number;

  constructor(limitBytes: number) {
    super(`request body is larger than the limit of ${limitBytes} bytes`);
    this.limitBytes = limitBytes;
  }
}

export class RouteNotFoundError extends Error {
  readonly code = 'ROUTE_NOT_FOUND';
  override name = 'RouteNotFoundError';
  readonly path: string;

  constructor(path: string) {
    super(`no route for ${path}`);
    this.path = path;
  }
}

export class MethodNotAllowedError extends Error {
  readonly code = 'METHOD_NOT_ALLOWED';
  override name = 'MethodNotAllowedError';
  readonly allow: readonly string[];

  constructor(method: string, path: string, allow: readonly string[]) {
    super(`${method} is not allowed on ${path}; use ${allow.join(', ')}`);
    this.allow = allow;
  }
}

/** The client closed the connection before we answered; nobody will read the answer. */
export class ClientClosedRequestError extends Error {
  readonly code = 'CLIENT_CLOSED_REQUEST';
  override name = 'ClientClosedRequestError';
}
