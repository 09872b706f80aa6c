import { describe, expect, it } from 'vitest';
import { layoutTopology } from '../../lab/diagram/topology-layout.ts';
import { renderTopologyDiagram } from '../../lab/diagram/topology-diagram.ts';
import { dbOutage, partition } from '../../lab/vocabulary/faults.ts';
import type { Box } from '../../lab/diagram/svg.ts';

// The modular monolith's picture: one process holding a box per module, joined by the PaymentGateway
// interface, and one database holding a schema per module, behind the one modular-db link.

function inside(inner: Box, outer: Box): boolean {
  return (
    inner.x >= outer.x &&
    inner.y >= outer.y &&
    inner.x + inner.width <= outer.x + outer.width &&
    inner.y + inner.height <= outer.y + outer.height
  );
}

function overlaps(a: Box, b: Box): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

describe('the modular deployment diagram', () => {
  const layout = layoutTopology('modular', { titled: false });
  const node = (name: string) => {
    const found = layout.nodes.find((candidate) => candidate.name === name);
    if (!found) throw new Error(`no node ${name}`);
    return found;
  };

  it('draws one process with a box per module inside it, joined by PaymentGateway', () => {
    expect(
      layout.nodes.filter((candidate) => candidate.kind === 'service').map((service) => service.name),
    ).toEqual(['modular']);
    const process = node('modular');
    expect(process.compartments?.map((part) => part.label)).toEqual(['signup module', 'payment module']);
    expect(process.innerCall).toBe('PaymentGateway');
    const [signup, payment] = process.compartments ?? [];
    if (!signup || !payment) throw new Error('two modules expected');
    expect(inside(signup.box, process.box) && inside(payment.box, process.box)).toBe(true);
    expect(overlaps(signup.box, payment.box)).toBe(false);
  });

  it('draws one database with a schema per module inside it, on the one PostgreSQL server', () => {
    expect(
      layout.nodes.filter((candidate) => candidate.kind === 'database').map((database) => database.name),
    ).toEqual(['postgres (modular)']);
    const database = node('postgres (modular)');
    expect(database.compartments?.map((part) => part.label)).toEqual(['schema signup', 'schema payment']);
    for (const schema of database.compartments ?? []) expect(inside(schema.box, database.box)).toBe(true);
    expect(inside(database.box, layout.postgres)).toBe(true);
  });

  it('keeps the links at the process and the database, and one link to the server', () => {
    expect(layout.links.map((link) => link.link)).toEqual(['edge-modular', 'modular-db']);
    const toDatabase = layout.links.find((link) => link.link === 'modular-db');
    expect(toDatabase?.start.x).toBe(node('modular').box.x + node('modular').box.width);
    expect(toDatabase?.end.x).toBe(node('postgres (modular)').box.x);
  });

  it('renders the modules, the schemas and the interface in the SVG', () => {
    const svg = renderTopologyDiagram('modular', []);
    expect(svg).toContain('data-compartment="signup module"');
    expect(svg).toContain('data-compartment="payment module"');
    expect(svg).toContain('data-compartment="schema signup"');
    expect(svg).toContain('data-compartment="schema payment"');
    expect(svg).toContain('data-call="PaymentGateway"');
    expect(svg).toContain('PostgreSQL: one server, one database with a schema per module');
  });

  it("marks a payment database outage on the one modular-db link, and ignores split's payment-api", () => {
    const svg = renderTopologyDiagram('modular', [
      { fault: dbOutage('payment'), label: 'db-down' },
      { fault: partition('payment-api'), label: 'partition' },
    ]);
    expect(svg).toMatch(/<g class="fault" data-link="modular-db" data-fault="dbOutage">/);
    expect(svg).not.toContain('payment-api');
  });

  it('leaves the monolith without compartments', () => {
    const monolith = layoutTopology('monolith', { titled: false });
    expect(monolith.nodes.every((candidate) => candidate.compartments === undefined)).toBe(true);
  });
});
