/**
 * How load is offered on one route: an open model (requests arrive at a fixed rate whatever the system
 * does, as users on the internet do) or a closed model (a fixed number of connections, each sending its
 * next request only when the previous one is answered, as a worker pool or autocannon does). A closed
 * model slows down with the system it measures, so its latency hides stalls (coordinated omission).
 */
export type RouteLoadModel = OpenRouteLoad | ClosedRouteLoad;

export interface OpenRouteLoad {
  model: 'open';
  ratePerSecond: number;
}

export interface ClosedRouteLoad {
  model: 'closed';
  /** Connections kept busy, each with one request outstanding at a time (autocannon `connections`). */
  connections: number;
}

/** `8/s` or `32 connections (closed)`: how the report and the terminal name a load. */
export function describeRouteLoad(load: RouteLoadModel): string {
  return load.model === 'open' ? `${load.ratePerSecond}/s` : `${load.connections} connections (closed)`;
}
