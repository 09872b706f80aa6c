/**
 * The modular deployment started through the runtime, as a scenario starts it: its three routes through
 * the edge-modular link, with the payment module in-process and on its worker thread, and a payment
 * database outage acting on the one modular-db link that both modules share.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyFault } from '../../lab/runtime/apply-fault.ts';
import type { StartedLab } from '../../lab/runtime/runtime.ts';
import { dbOutage } from '../../lab/vocabulary/faults.ts';
import { checkoutBody, payBody, post, startTestLab } from './support/lab.ts';

let lab: StartedLab;

beforeAll(async () => {
  lab = await startTestLab();
});

afterAll(async () => {
  await lab?.stop();
});

function signupBody(): { body: Record<string, unknown>; headers: Record<string, string> } {
  const { body } = checkoutBody();
  return { body: { email: body['email'], password: body['password'] }, headers: {} };
}

const VARIANTS: { variant: string; settings: Record<string, string> }[] = [
  { variant: 'modular', settings: {} },
  { variant: 'modular/worker', settings: { PAYMENT_MODULE: 'worker' } },
];

describe.each(VARIANTS)('$variant through the runtime', ({ settings }) => {
  it('answers signup, pay and checkout through edge-modular; a payment database outage takes all three down', async () => {
    const deployment = await lab.startDeployment('modular', { settings });
    try {
      expect(deployment.routeUrl('signup')).toMatch(/\/signup$/);
      for (const [route, request, status] of [
        ['signup', signupBody(), 201],
        ['pay', payBody(), 201],
        ['checkout', checkoutBody(), 201],
      ] as const) {
        const answer = await post(deployment.routeUrl(route), request.body, request.headers);
        expect({ route, status: answer.status }).toEqual({ route, status });
      }

      const undo = await applyFault(deployment, dbOutage('payment'));
      try {
        for (const [route, request] of [
          ['signup', signupBody()],
          ['pay', payBody()],
          ['checkout', checkoutBody()],
        ] as const) {
          const answer = await post(deployment.routeUrl(route), request.body, request.headers);
          // One server behind one link: signup has its own schema and pool, and falls all the same. A refused
          // link is an immediate answer: well under the 5 s database timeout.
          expect({ route, status: answer.status, cause: answer.body['cause'] }).toEqual({
            route,
            status: 503,
            cause: 'database',
          });
          expect(answer.elapsedMs).toBeLessThan(2_000);
        }
      } finally {
        await undo();
      }
      // A pooled connection that died in the outage may fail one request; a fresh one follows (measured: 0 s).
      const healedAt = performance.now();
      let status: number | null;
      do {
        const again = payBody();
        status = (await post(deployment.routeUrl('pay'), again.body, again.headers)).status;
      } while (status !== 201 && performance.now() - healedAt < 3_000);
      expect(status).toBe(201);
    } finally {
      await deployment.stop();
    }
  });
});
