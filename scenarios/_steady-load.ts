/**
 * The steady load most scenarios share (files starting with `_` are not scenarios). Small next to what
 * the services can take (`npm run bench`: about 70 signups/s and 3,000 pays/s on 2 cores), so that
 * the faults, not the CPU, decide what happens.
 */
export const STEADY_LOAD = {
  signup: { ratePerSecond: 4 },
  pay: { ratePerSecond: 20 },
  checkout: { ratePerSecond: 8 },
};
