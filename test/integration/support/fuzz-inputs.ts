import fc from 'fast-check';
import {
  BODY_LIMIT_BYTES,
  headerValueAccepted,
  POST_ROUTES,
  type PostRoute,
  type RouteKind,
} from './fuzz-expected.ts';
import { requestHead, type RawPiece } from './fuzz-raw-http.ts';

// fast-check arbitraries for hostile input to the services: JSON bodies with fields of every wrong kind
// (and often all right, so the valid path is exercised too), bodies that are not JSON or too large,
// header values of odd lengths and bytes, methods and request targets. Bodies and header values are
// bytes, so a value can be anything a client can send, not only what JSON.stringify or undici produce.

/** One character a hostile client may put in a string: controls, NUL, astral, lone surrogates, marks. */
const hostileChar: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('a', 'Z', '0', '@', '.', '-', ' ', '"', '\\', '/', '%', '+') },
  { weight: 2, arbitrary: fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('\u200b', '\u202e', '\ufeff', '\ufffd', 'é', 'ß', '中', '🔑', '👩‍💻', 'a\u0301'),
  },
  { weight: 1, arbitrary: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)) },
);

/** A string of hostile characters, `minLength`..`maxLength` characters (each 1 or 2 UTF-16 units). */
export function hostileString(minLength = 0, maxLength = 20): fc.Arbitrary<string> {
  return fc.string({ unit: hostileChar, minLength, maxLength });
}

/** The same without U+0000, which no string field accepts: for values meant to be valid. */
const hostileStringWithoutNul = (minLength: number, maxLength: number): fc.Arbitrary<string> =>
  hostileString(minLength, maxLength).map((text) => text.replaceAll('\u0000', '\u0001'));

const json = (value: unknown): string => JSON.stringify(value);

/** JSON texts of the wrong kind for any field: null, booleans, containers, deep nesting, other types. */
const wrongKindJson: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('null', 'true', 'false', '[]', '{}', '[1,2]', '{"$ne":null}', '0', '""'),
  fc.integer({ min: 1, max: 2_000 }).map((depth) => '['.repeat(depth) + ']'.repeat(depth)),
  fc.integer({ min: 1, max: 500 }).map((depth) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)),
  fc.jsonValue({ maxDepth: 3 }).map(json),
);

const email: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc
      .tuple(hostileStringWithoutNul(0, 12), fc.uuid(), hostileStringWithoutNul(0, 12))
      .map(([local, id, domain]) => json(`${local}${id}@${domain}`)),
  },
  // Exactly the 320-character limit.
  { weight: 1, arbitrary: fc.uuid().map((id) => json(`${id}@${'d'.repeat(320 - id.length - 1)}`)) },
);

const wrongEmail: fc.Arbitrary<string> = fc.oneof(
  hostileString(0, 30)
    .filter((text) => !text.includes('@'))
    .map(json),
  fc.constantFrom('@', 'a@', '').map(json),
  fc
    .tuple(fc.uuid(), fc.integer({ min: 1, max: 2_000 }))
    .map(([id, extra]) => json(`${id}@${'x'.repeat(284 + extra)}`)),
  fc.uuid().map((id) => json(`${id}\u0000@example.com`)),
  wrongKindJson,
);

const password: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: hostileStringWithoutNul(8, 100).map(json) },
  { weight: 1, arbitrary: fc.constantFrom('p'.repeat(8), 'p'.repeat(200)).map(json) },
);

const wrongPassword: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 7 }).map(json),
  fc.integer({ min: 201, max: 5_000 }).map((length) => json('p'.repeat(length))),
  fc.constant(json('long enough\u0000 but NUL')),
  wrongKindJson,
);

const userId: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.uuid().map(json) },
  { weight: 1, arbitrary: fc.uuid().map((id) => json(id.toUpperCase())) },
);

const wrongUserId: fc.Arbitrary<string> = fc.oneof(
  hostileString(0, 40).map(json),
  fc.uuid().map((id) => json(id.replaceAll('-', ''))),
  fc.uuid().map((id) => json(`${id} `)),
  fc.uuid().map((id) => json(`${id.slice(0, 8)}\u0000${id.slice(9)}`)),
  // Fullwidth digits look like a uuid and are not one.
  fc.uuid().map((id) => json(id.replace(/[0-9]/g, (digit) => String.fromCharCode(0xff10 + Number(digit))))),
  wrongKindJson,
);

const amountCents: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 10_000_000 }).map(String) },
  { weight: 1, arbitrary: fc.constantFrom('1', '10000000', '1999.0', '1.999e3', '2E1') },
);

const wrongAmountCents: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('0', '-0', '-1', '10000001', '19.99', '1e400', '-1e400', '1e21', '9007199254740993'),
  fc.integer({ min: -1_000_000_000, max: 0 }).map(String),
  fc
    .double({ noNaN: true, noDefaultInfinity: true })
    .filter((n) => !Number.isInteger(n))
    .map(String),
  fc.integer({ min: 1, max: 10_000_000 }).map((n) => json(String(n))),
  wrongKindJson,
);

const FIELDS: Record<RouteKind, readonly string[]> = {
  signup: ['email', 'password'],
  charge: ['userId', 'amountCents'],
  checkout: ['email', 'password', 'amountCents'],
};

const GOOD: Record<string, fc.Arbitrary<string>> = { email, password, userId, amountCents };
const BAD: Record<string, fc.Arbitrary<string>> = {
  email: wrongEmail,
  password: wrongPassword,
  userId: wrongUserId,
  amountCents: wrongAmountCents,
};

type Entry = readonly [key: string, value: Buffer];

/** A field's value as JSON text: mostly valid, sometimes wrong, sometimes missing, rarely raw bad UTF-8. */
function fieldEntries(field: string): fc.Arbitrary<Entry[]> {
  const entry = (text: fc.Arbitrary<string>): fc.Arbitrary<Entry[]> =>
    text.map((value) => [[field, Buffer.from(value, 'utf8')] as const]);
  return fc.oneof(
    { weight: 8, arbitrary: entry(GOOD[field] ?? fc.constant('null')) },
    { weight: 3, arbitrary: entry(BAD[field] ?? fc.constant('null')) },
    { weight: 1, arbitrary: fc.constant<Entry[]>([]) },
    {
      weight: 1,
      // Bytes that are not UTF-8 inside a string: the service decodes them to U+FFFD.
      arbitrary: fc
        .uint8Array({ minLength: 1, maxLength: 12, min: 0x80, max: 0xff })
        .map((bytes) => [
          [
            field,
            Buffer.concat([Buffer.from(`"${field}-`), Buffer.from(bytes), Buffer.from('@x"')]),
          ] as const,
        ]),
    },
  );
}

const extraEntry: fc.Arbitrary<Entry> = fc
  .tuple(
    fc.oneof(
      fc.constantFrom('__proto__', 'constructor', 'prototype', '', 'Email', 'amount_cents'),
      hostileString(0, 8),
    ),
    fc.jsonValue({ maxDepth: 2 }),
  )
  .map(([key, value]) => [key, Buffer.from(json(value), 'utf8')] as const);

/** A JSON object body for `kind`, as bytes: its fields, extra fields, a repeated field, odd spacing. */
function objectBody(kind: RouteKind, onlyValidFields = false): fc.Arbitrary<Buffer> {
  const fields = FIELDS[kind];
  const validEntries = (field: string): fc.Arbitrary<Entry[]> =>
    (GOOD[field] ?? fc.constant('null')).map((value) => [[field, Buffer.from(value, 'utf8')] as const]);
  return fc
    .tuple(
      fc.tuple(...fields.map(onlyValidFields ? validEntries : fieldEntries)),
      fc.array(extraEntry, { maxLength: 3 }),
      // A field sent twice: JSON.parse keeps the last one.
      fc.option(
        fc.tuple(
          fc.constantFrom(...fields),
          fc.boolean().map((bad) => bad && !onlyValidFields),
        ),
        {
          freq: 6,
        },
      ),
      fc.constantFrom('', ' ', '\n\t ', '\r\n'),
    )
    .chain(([entries, extras, duplicate, space]) => {
      const flat = [...entries.flat(), ...extras];
      if (!duplicate) return fc.constant(serialize(flat, space));
      const [field, bad] = duplicate;
      const value = (bad ? BAD[field] : GOOD[field]) ?? fc.constant('null');
      return value.map((text) => serialize([...flat, [field, Buffer.from(text, 'utf8')] as const], space));
    });
}

function serialize(entries: readonly Entry[], space: string): Buffer {
  const parts: Buffer[] = [Buffer.from(`${space}{${space}`)];
  entries.forEach(([key, value], index) => {
    if (index > 0) parts.push(Buffer.from(`,${space}`));
    parts.push(Buffer.from(`${json(key)}${space}:${space}`, 'utf8'), value);
  });
  parts.push(Buffer.from(`${space}}${space}`));
  return Buffer.concat(parts);
}

const notAnObject: fc.Arbitrary<Buffer> = fc
  .oneof(
    fc
      .jsonValue({ maxDepth: 3 })
      .filter((value) => typeof value !== 'object' || value === null || Array.isArray(value))
      .map(json),
    fc.constantFrom('null', '[{"email":"a@b.c","password":"long enough"}]', '"{}"', '1999'),
  )
  .map((text) => Buffer.from(text, 'utf8'));

const notJson: fc.Arbitrary<Buffer> = fc.oneof(
  fc.uint8Array({ minLength: 1, maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
  hostileString(1, 60).map((text) => Buffer.from(text, 'utf8')),
  fc
    .constantFrom(
      '\ufeff{"email":"a@b.c","password":"long enough"}',
      "{'email':'a@b.c'}",
      '{"amountCents": NaN}',
      '{"amountCents": Infinity}',
      '{"email":"a@b.c",}',
      '{"email":"a@b.c"} trailing',
      '{"email":"a@b.c" /* comment */}',
      '{"email":"\\ud800@b.c","password":"\\x41"}',
      'email=a@b.c&password=long+enough',
    )
    .map((text) => Buffer.from(text, 'utf8')),
);

/** A valid-looking object padded to exactly `size` bytes: around and over the 64 KiB limit. */
const oversized: fc.Arbitrary<Buffer> = fc
  .constantFrom(BODY_LIMIT_BYTES, BODY_LIMIT_BYTES + 1, 70_000, 200_000)
  .map((size) => {
    const head = '{"email":"big@example.com","password":"long enough","amountCents":5,"pad":"';
    return Buffer.from(`${head}${'x'.repeat(Math.max(0, size - head.length - 2))}"}`, 'utf8');
  });

/** A request body for `kind`: mostly an object, else not one, not JSON, empty, or too large. */
export function requestBody(kind: RouteKind): fc.Arbitrary<Buffer> {
  return fc.oneof(
    { weight: 12, arbitrary: objectBody(kind) },
    { weight: 1, arbitrary: notAnObject },
    { weight: 1, arbitrary: notJson },
    { weight: 1, arbitrary: fc.constant(Buffer.alloc(0)) },
    { weight: 1, arbitrary: oversized },
  );
}

/** Raw bytes of one header value, for the values that matter nothing to the services. */
const contentType: fc.Arbitrary<Buffer | undefined> = fc.oneof(
  fc.constant(undefined),
  fc
    .constantFrom(
      'application/json',
      'application/json; charset=utf-8',
      'application/json; charset=latin1',
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      '',
      '*/*',
    )
    .map((text) => Buffer.from(text)),
  fc.uint8Array({ minLength: 0, maxLength: 40 }).map((bytes) => Buffer.from(bytes)),
);

/** Expect: mostly absent; 100-continue (Node then answers 100 first), or something Node refuses. */
const expectHeader: fc.Arbitrary<Buffer | undefined> = fc.oneof(
  { weight: 12, arbitrary: fc.constant(undefined) },
  {
    weight: 2,
    arbitrary: fc
      .constantFrom(
        '100-continue',
        '100-Continue',
        'x, 100-continue',
        'nonsense',
        '',
        '100-continuex',
        '200-ok',
      )
      .map((text) => Buffer.from(text)),
  },
);

/** Idempotency-Key values of odd lengths and bytes, each the raw bytes of one header line. */
export const oddIdempotencyKey: fc.Arbitrary<Buffer> = fc.oneof(
  fc.constant(Buffer.alloc(0)),
  fc
    .integer({ min: 0x21, max: 0xff })
    .filter((byte) => byte !== 0x7f)
    .map((byte) => Buffer.from([byte])),
  fc.constantFrom(200, 201, 10 * 1024).map((length) => Buffer.from('k'.repeat(length))),
  fc
    .uint8Array({ minLength: 1, maxLength: 40, min: 0, max: 0x1f })
    .map((bytes) => Buffer.concat([Buffer.from('k'), Buffer.from(bytes)])),
  fc.constant(Buffer.from('k\x7fk')),
  hostileString(1, 60).map((text) => Buffer.from(text, 'utf8')),
  fc.uuid().map((id) => Buffer.from(` \t${id}\t `)),
  fc.uint8Array({ minLength: 1, maxLength: 250 }).map((bytes) => Buffer.from(bytes)),
);

/** The Idempotency-Key header lines of a request: none, a fresh uuid, an odd value, or two lines. */
const idempotencyKeyLines: fc.Arbitrary<Buffer[]> = fc.oneof(
  { weight: 2, arbitrary: fc.constant<Buffer[]>([]) },
  { weight: 4, arbitrary: fc.uuid().map((id) => [Buffer.from(id)]) },
  { weight: 4, arbitrary: oddIdempotencyKey.map((key) => [key]) },
  { weight: 1, arbitrary: fc.tuple(fc.uuid(), oddIdempotencyKey).map(([id, key]) => [Buffer.from(id), key]) },
);

/** X-Deadline-Ms values: generous, spent (0), tight, negative, huge, not a number, padded, repeated. */
const deadlineValue: fc.Arbitrary<Buffer> = fc
  .oneof(
    fc.integer({ min: 10_000, max: 3_600_000 }).map(String),
    fc.constantFrom('0', '1', '3', '00010000', ' 20000 ', '\t30000'),
    fc.integer({ min: -1_000_000, max: -1 }).map(String),
    fc.constantFrom('3600001', '99999999999', '1e3', '1.5', '10000.0', 'NaN', 'Infinity', 'soon', '', '0x10'),
    fc.constantFrom('+5000', '5000ms', '١٢٣٤٥', '５０００', '-0'),
    fc.double().map(String),
    hostileString(1, 12),
  )
  .map((text) => Buffer.from(text, 'utf8'));

const deadlineLines: fc.Arbitrary<Buffer[]> = fc.oneof(
  { weight: 3, arbitrary: fc.constant<Buffer[]>([]) },
  { weight: 3, arbitrary: deadlineValue.map((value) => [value]) },
  { weight: 1, arbitrary: fc.tuple(deadlineValue, deadlineValue).map((pair): Buffer[] => [...pair]) },
);

/** One hostile POST to one of the routes that write. */
export interface HostilePost {
  readonly route: PostRoute;
  readonly body: Buffer;
  /** Sent with Transfer-Encoding: chunked in chunks of this many bytes, else with Content-Length. */
  readonly chunkBytes: number | undefined;
  readonly contentType: Buffer | undefined;
  readonly expectHeader: Buffer | undefined;
  readonly keyLines: readonly Buffer[];
  readonly deadlineLines: readonly Buffer[];
}

/** Idempotency-Key lines that keep a request valid: none, or a usable key (odd characters and all). */
const validKeyLines: fc.Arbitrary<Buffer[]> = fc.oneof(
  fc.constant<Buffer[]>([]),
  fc.uuid().map((id) => [Buffer.from(id)]),
  fc
    .tuple(hostileString(0, 40), fc.uuid())
    // Control characters would make it a malformed header: those are the hostile cases' business.
    .map(([odd, id]) => [
      Buffer.from(`${odd.replace(/[\u0000-\u0008\u000a-\u001f\u007f]/g, '_')}${id}`, 'utf8'),
    ])
    .filter(([key]) => key !== undefined && headerValueAccepted(key)),
);

/** No budget, a generous one, or one already spent (0): valid, refused with 504 before any write. */
const usableDeadlineLines: fc.Arbitrary<Buffer[]> = fc.oneof(
  { weight: 3, arbitrary: fc.constant<Buffer[]>([]) },
  {
    weight: 3,
    arbitrary: fc.integer({ min: 10_000, max: 3_600_000 }).map((budget) => [Buffer.from(String(budget))]),
  },
  { weight: 1, arbitrary: fc.constant<Buffer[]>([Buffer.from('0')]) },
);

const framing = fc.option(fc.integer({ min: 1, max: 8_192 }), { freq: 4 }).map((n) => n ?? undefined);

/**
 * One hostile POST to a route that writes. A third are valid requests with odd but acceptable values
 * (unicode, extra and repeated fields, odd keys), so the success path is fuzzed as hard as the refusals.
 */
export const hostilePost: fc.Arbitrary<HostilePost> = fc.constantFrom(...POST_ROUTES).chain((route) =>
  fc.oneof(
    {
      weight: 2,
      arbitrary: fc.record({
        route: fc.constant(route),
        body: requestBody(route.kind),
        chunkBytes: framing,
        contentType,
        expectHeader,
        keyLines: idempotencyKeyLines,
        deadlineLines,
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        route: fc.constant(route),
        body: objectBody(route.kind, true),
        chunkBytes: framing,
        contentType,
        expectHeader,
        keyLines: route.kind === 'charge' ? validKeyLines.filter((lines) => lines.length > 0) : validKeyLines,
        deadlineLines: usableDeadlineLines,
      }),
    },
  ),
);

/** The bytes of a {@link HostilePost}, framed as it says. */
export function hostilePostBytes(post: HostilePost): Buffer {
  const headers: [string, Buffer][] = [['connection', Buffer.from('close')]];
  if (post.contentType) headers.push(['content-type', post.contentType]);
  if (post.expectHeader) headers.push(['expect', post.expectHeader]);
  for (const key of post.keyLines) headers.push(['idempotency-key', key]);
  for (const deadline of post.deadlineLines) headers.push(['x-deadline-ms', deadline]);
  if (post.chunkBytes === undefined) {
    headers.push(['content-length', Buffer.from(String(post.body.length))]);
    return Buffer.concat([requestHead({ method: 'POST', target: post.route.path, headers }), post.body]);
  }
  headers.push(['transfer-encoding', Buffer.from('chunked')]);
  // Never more than 64 chunks: a 200 KB body in 1-byte chunks would only measure the client.
  const size = Math.max(post.chunkBytes, Math.ceil(post.body.length / 64));
  const chunks: Buffer[] = [];
  for (let at = 0; at < post.body.length; at += size) {
    const chunk = post.body.subarray(at, at + size);
    chunks.push(Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from('0\r\n\r\n'));
  return Buffer.concat([requestHead({ method: 'POST', target: post.route.path, headers }), ...chunks]);
}

/** Splits `bytes` into pieces at the given cut points, each sent after its delay: a slow client. */
export function drip(bytes: Buffer, cuts: readonly number[], delaysMs: readonly number[]): RawPiece[] {
  const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
  const pieces: RawPiece[] = [];
  let from = 0;
  points.forEach((point, index) => {
    if (point > from)
      pieces.push({ bytes: bytes.subarray(from, point), delayMs: delaysMs[index % delaysMs.length] ?? 0 });
    from = Math.max(from, point);
  });
  pieces.push({
    bytes: bytes.subarray(from),
    delayMs: delaysMs[points.length % Math.max(1, delaysMs.length)] ?? 0,
  });
  return pieces;
}

/** Methods: the ones Node knows, lower-case and made-up ones, CONNECT. */
export const method: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD') },
  {
    weight: 2,
    arbitrary: fc.constantFrom('TRACE', 'PROPFIND', 'SEARCH', 'PURGE', 'CHECKOUT', 'QUERY', 'CONNECT'),
  },
  { weight: 1, arbitrary: fc.constantFrom('get', 'Post', 'FOO', 'GETT', 'PO ST', 'PRI') },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Z]{1,12}$/) },
);

const KNOWN_PATHS = [
  '/signup',
  '/pay',
  '/checkout',
  '/charge',
  '/charges',
  '/healthz',
  '/metrics',
  '/metrics.json',
];

/** Request targets: known paths and their near misses, encoded, absolute, very long, raw bytes. */
export const target: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...KNOWN_PATHS).map((path) => Buffer.from(path)) },
  {
    weight: 3,
    arbitrary: fc
      .tuple(
        fc.constantFrom(...KNOWN_PATHS),
        fc.constantFrom(
          '/',
          '?',
          '?x=1',
          '#frag',
          '/..',
          '%2F',
          '%00',
          '//',
          '?userId=',
          '?userId=%ZZ',
          '.json',
        ),
      )
      .map(([path, suffix]) => Buffer.from(path + suffix)),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.uuid(), fc.constantFrom('', '&userId=x', '&userId=', '#x'))
      .map(([id, rest]) => Buffer.from(`/charges?userId=${id}${rest}`)),
  },
  {
    weight: 2,
    arbitrary: fc
      .constantFrom(
        '/%73ignup',
        '/SIGNUP',
        '//signup',
        '*',
        'http://127.0.0.1/signup',
        '/healthz?',
        '/%2e%2e/healthz',
        '/charges?userId=%36f1c2d3e-4b5a-4978-8899-aabbccddeeff',
        '/charges?userId=6F1C2D3E-4B5A-4978-8899-AABBCCDDEEFF',
      )
      .map((text) => Buffer.from(text)),
  },
  {
    weight: 2,
    arbitrary: hostileString(1, 30)
      .filter((text) => text.isWellFormed())
      .map((text) => Buffer.from(`/${encodeURIComponent(text)}`)),
  },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 1_000, max: 12_000 }).map((length) => Buffer.from(`/${'a'.repeat(length)}`)),
  },
  { weight: 1, arbitrary: hostileString(1, 20).map((text) => Buffer.from(`/${text}`, 'utf8')) },
);
