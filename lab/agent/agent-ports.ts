/**
 * The ports of the lab's in-network parts (lab/agent/*-main.ts). Their own file, because importing an
 * entry point would start it.
 */

/** The DNS server answers on UDP here; unprivileged, so the agent runs as a plain user. */
export const DNS_PORT = 5353;
/** The DNS server's HTTP control API (records, modes, query counts). */
export const DNS_CONTROL_PORT = 8053;
/** The trace relay: OTLP/HTTP in from the services, batches out to the lab. */
export const TRACE_RELAY_PORT = 4318;
/** The load generator's HTTP API (lab/agent/load-main.ts). */
export const LOAD_GENERATOR_PORT = 8090;
