/**
 * The crash scenario: a process dies without a goodbye (SIGKILL). In the monolith that process is the
 * whole application; in split it is one service, and the other keeps working.
 */
import { crash } from '../lab/vocabulary/faults.ts';
import { defineScenario } from '../lab/scenario/define-scenario.ts';
import { STEADY_LOAD } from './_steady-load.ts';

export default defineScenario({
  name: 'crash',
  title: 'What keeps working when the process that handles signup crashes?',
  claim:
    'Once split, the services have separate memory and separate processes: if signup crashes, payment keeps working.',

  load: STEADY_LOAD,

  timeline: [
    { name: 'baseline', durationS: 10, story: 'Healthy.' },
    {
      name: 'crashed',
      durationS: 15,
      story:
        'The process that runs signup is killed: signup-service in split, the monolith itself in the monolith. ' +
        'At the end of the phase it is started again.',
      // Each deployment gets the crash that applies to it.
      faults: [crash('signup-service'), crash('monolith')],
    },
    { name: 'restarted', durationS: 15, story: 'The process is back (a fresh start, empty caches).' },
  ],

  hypothesis: [
    {
      id: 'split-pay-survives',
      says: 'payment-service is another process: split pay keeps working while signup-service is dead.',
      deployment: 'split',
      route: 'pay',
      phase: 'crashed',
      metric: 'successRate',
      atLeast: 0.99,
    },
    {
      id: 'split-signup-down',
      says: 'Split signup is down with its service.',
      deployment: 'split',
      route: 'signup',
      phase: 'crashed',
      metric: 'successRate',
      atMost: 0.05,
    },
    {
      id: 'monolith-pay-down',
      says: 'In the monolith, the crash takes pay down too: it was the same process.',
      deployment: 'monolith',
      route: 'pay',
      phase: 'crashed',
      metric: 'successRate',
      atMost: 0.05,
    },
    {
      id: 'monolith-signup-down',
      says: 'And signup, of course.',
      deployment: 'monolith',
      route: 'signup',
      phase: 'crashed',
      metric: 'successRate',
      atMost: 0.05,
    },
    {
      id: 'monolith-recovers',
      says: 'After the restart, the monolith serves pay again within a few seconds.',
      deployment: 'monolith',
      route: 'pay',
      phase: 'crashed',
      metric: 'recoverySeconds',
      atMost: 3,
    },
    {
      id: 'split-recovers',
      says: 'After the restart, split signup works again within a few seconds.',
      deployment: 'split',
      route: 'signup',
      phase: 'crashed',
      metric: 'recoverySeconds',
      atMost: 3,
    },
  ],

  whatToLookAt: [
    'Pay during the crash: green in split, red in the monolith. This is the isolation the split buys.',
    'The cause of the failures: "reset". Toxiproxy still accepts the connection, finds nothing behind it, and closes it; a real load balancer in front of a dead process behaves much the same.',
    'The service metrics have a gap where the process was dead.',
  ],
});
