/**
 * A trace's log lines from the services' stderr: only JSON lines with a trace id and a time, merged
 * by time across services.
 */
import { describe, expect, it } from 'vitest';
import { indexTraceLogs } from '../../lab/tracing/trace-logs.ts';
import { logLineSchema } from '../../lab/tracing/trace-schema.ts';

const TRACE = '5b8efff798038103d269b633813fc60c';
const OTHER = '0af7651916cd43dd8448eb211c80319c';

const line = (time: string, fields: Record<string, unknown>): string =>
  JSON.stringify({ time, service: 'ignored', ...fields });

describe('indexTraceLogs', () => {
  it("merges one trace's lines from every service by time", () => {
    const index = indexTraceLogs([
      { service: 'signup-service', line: line('2026-11-30T10:00:00.300Z', { event: 'c', trace_id: TRACE }) },
      { service: 'payment-service', line: line('2026-11-30T10:00:00.100Z', { event: 'a', trace_id: TRACE }) },
      { service: 'signup-service', line: line('2026-11-30T10:00:00.200Z', { event: 'x', trace_id: OTHER }) },
      {
        service: 'signup-service',
        line: `${line('2026-11-30T10:00:00.200Z', { event: 'b', trace_id: TRACE })}\n`,
      },
    ]);
    const logs = index.logsOf(TRACE);
    expect(logs.map((log) => [log.service, log.line.event])).toEqual([
      ['payment-service', 'a'],
      ['signup-service', 'b'],
      ['signup-service', 'c'],
    ]);
    expect(logs[0]?.atMs).toBe(Date.parse('2026-11-30T10:00:00.100Z'));
    for (const log of logs) expect(logLineSchema.parse(log)).toEqual(log);
    expect(index.logsOf(OTHER)).toHaveLength(1);
    expect(index.traceCount).toBe(2);
  });

  it('keeps the written order of lines of the same millisecond', () => {
    const at = '2026-11-30T10:00:00.000Z';
    const index = indexTraceLogs(
      ['first', 'second', 'third'].map((event) => ({
        service: 'monolith',
        line: line(at, { event, trace_id: TRACE }),
      })),
    );
    expect(index.logsOf(TRACE).map((log) => log.line.event)).toEqual(['first', 'second', 'third']);
  });

  it('leaves out what is not a traced JSON line, and answers [] for an unknown trace', () => {
    const index = indexTraceLogs([
      { service: 'monolith', line: 'node:internal warning: trace_id is not JSON' },
      { service: 'monolith', line: '{"trace_id": "' },
      { service: 'monolith', line: line('2026-11-30T10:00:00.000Z', { event: 'untraced' }) },
      { service: 'monolith', line: line('2026-11-30T10:00:00.000Z', { trace_id: 'not-a-trace-id' }) },
      { service: 'monolith', line: line('yesterday', { trace_id: TRACE }) },
      { service: 'monolith', line: JSON.stringify([{ trace_id: TRACE }]) },
      { service: 'monolith', line: '' },
    ]);
    expect(index.traceCount).toBe(0);
    expect(index.logsOf(TRACE)).toEqual([]);
  });

  it('returns a copy: a caller cannot change the index', () => {
    const index = indexTraceLogs([
      { service: 'monolith', line: line('2026-11-30T10:00:00.000Z', { trace_id: TRACE }) },
    ]);
    index.logsOf(TRACE).pop();
    expect(index.logsOf(TRACE.toUpperCase())).toHaveLength(1);
  });
});
