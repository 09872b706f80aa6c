import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { documentationDiagrams } from '../../lab/cli/diagrams.ts';
import { faultOfWindow } from '../../lab/diagram/recorded-faults.ts';
import { renderTopologyDiagram, type DiagramFault } from '../../lab/diagram/topology-diagram.ts';
import { PROJECT_ROOT } from '../../lab/project-root.ts';
import { renderRunReport } from '../../lab/report/render-run.ts';
import type { FaultWindow } from '../../lab/results.ts';
import { planWiring } from '../../lab/runtime/deployment-wiring.ts';
import {
  bandwidth,
  crash,
  dbLatency,
  deploy,
  dbOutage,
  describeFault,
  dnsFailure,
  faultTarget,
  flood,
  latency,
  limitData,
  outage,
  partition,
  reset,
  slicer,
  slowClose,
  stall,
  type Fault,
  type FaultKind,
} from '../../lab/vocabulary/faults.ts';
import { DEPLOYMENTS, LINKS, type DeploymentName } from '../../lab/vocabulary/topology.ts';
import { makeReportResults } from './fixtures/report-results.ts';

/** The value of `attribute` on every element that has it, in document order. */
function attributeValues(svg: string, tag: string, attribute: string, extra = ''): string[] {
  const pattern = new RegExp(`<${tag}\\b[^>]*?${extra}[^>]*?\\b${attribute}="([^"]*)"`, 'g');
  return [...svg.matchAll(pattern)].map((match) => match[1] ?? '');
}

/** The markup inside each fault mark `<g class="fault" data-link|data-node="…" data-fault="…">`. */
function faultMarks(svg: string): { on: string; kind: string; markup: string }[] {
  const pattern = /<g class="fault" data-(?:link|node)="([^"]+)" data-fault="([^"]+)">([\s\S]*?)<\/g>/g;
  return [...svg.matchAll(pattern)].map((match) => ({
    on: match[1] ?? '',
    kind: match[2] ?? '',
    markup: match[3] ?? '',
  }));
}

/** Fails on a closing tag that does not match the open one, or a tag left open: the SVG parses. */
function expectWellFormed(svg: string): void {
  const open: string[] = [];
  for (const match of svg.matchAll(/<(\/?)([a-zA-Z]+)\b[^>]*?(\/?)>/g)) {
    const [, closing, name, selfClosing] = match;
    if (selfClosing) continue;
    if (closing) expect(open.pop(), `</${name}> at ${match.index}`).toBe(name);
    else open.push(name ?? '');
  }
  expect(open).toEqual([]);
  expect(svg.startsWith('<svg ')).toBe(true);
}

const unescape = (text: string) =>
  text
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&quot;', '"')
    .replaceAll('&#39;', "'")
    .replaceAll('&amp;', '&');

interface Landing {
  fault: Fault;
  deployment: DeploymentName;
  /** The elements the fault must mark: a link or a node, each with the shape of its mark. */
  on: { element: string; shows: string; shape?: 'cut' | 'cross' }[];
}

// One case per kind: the table's type makes the compiler ask for a new kind.
const LANDINGS: Record<FaultKind, Landing> = {
  latency: {
    fault: latency('payment-api', { ms: 200, jitterMs: 20 }),
    deployment: 'split',
    on: [{ element: 'payment-api', shows: '+200 ms ±20' }],
  },
  partition: {
    fault: partition('payment-api'),
    deployment: 'split',
    on: [{ element: 'payment-api', shows: 'partitioned', shape: 'cut' }],
  },
  outage: {
    fault: outage('edge-monolith'),
    deployment: 'monolith',
    on: [{ element: 'edge-monolith', shows: 'down', shape: 'cross' }],
  },
  reset: {
    fault: reset('edge-signup'),
    deployment: 'split',
    on: [{ element: 'edge-signup', shows: 'reset', shape: 'cross' }],
  },
  bandwidth: {
    fault: bandwidth('signup-db', { kilobytesPerSecond: 64 }),
    deployment: 'split',
    on: [{ element: 'signup-db', shows: 'bandwidth 64 KB/s' }],
  },
  slowClose: {
    fault: slowClose('payment-db', { delayMs: 500 }),
    deployment: 'split',
    on: [{ element: 'payment-db', shows: 'slowClose 500 ms' }],
  },
  slicer: {
    fault: slicer('monolith-db', { averageBytes: 64 }),
    deployment: 'monolith',
    on: [{ element: 'monolith-db', shows: 'slicer ~64 B' }],
  },
  limitData: {
    fault: limitData('edge-payment', { bytes: 2048 }),
    deployment: 'split',
    on: [{ element: 'edge-payment', shows: 'limitData 2048 B' }],
  },
  dnsFailure: {
    fault: dnsFailure('payment-service', 'nxdomain'),
    deployment: 'split',
    on: [{ element: 'dns-server', shows: 'payment-service: NXDOMAIN' }],
  },
  crash: {
    fault: crash('signup-service'),
    deployment: 'split',
    on: [{ element: 'signup-service', shows: 'killed' }],
  },
  stall: {
    fault: stall('payment-service'),
    deployment: 'split',
    on: [{ element: 'payment-service', shows: 'frozen' }],
  },
  deploy: {
    fault: deploy('monolith', { version: 'v2', drainMs: 5000 }),
    deployment: 'monolith',
    on: [{ element: 'monolith', shows: 'deploy v2' }],
  },
  dbOutage: {
    fault: dbOutage('split'),
    deployment: 'split',
    on: [
      { element: 'signup-db', shows: 'down', shape: 'cross' },
      { element: 'payment-db', shows: 'down', shape: 'cross' },
    ],
  },
  dbLatency: {
    fault: dbLatency('payment', { ms: 50 }),
    deployment: 'monolith',
    on: [{ element: 'monolith-db', shows: '+50 ms' }],
  },
  flood: {
    fault: flood('checkout', { ratePerSecond: 40 }),
    deployment: 'split',
    on: [{ element: 'edge-signup', shows: 'flood +40/s checkout' }],
  },
};

describe('renderTopologyDiagram', () => {
  it.each(DEPLOYMENTS)('draws %s from its wiring: every process, database and link', (deployment) => {
    const wiring = planWiring(deployment);
    const svg = renderTopologyDiagram(deployment, []);
    expectWellFormed(svg);
    const nodes = attributeValues(svg, 'g', 'data-node', 'class="node');
    expect(nodes.toSorted()).toEqual(
      [
        'load',
        ...wiring.services.map((service) => service.name),
        ...wiring.databases.map((database) => `postgres (${database})`),
        ...(wiring.dnsRecords.length > 0 ? ['dns-server'] : []),
      ].toSorted(),
    );
    const links = attributeValues(svg, 'g', 'data-link', 'class="link"');
    expect(links).toEqual(wiring.links);
    for (const link of wiring.links) {
      // Each link is labelled with its name and says it goes through Toxiproxy.
      const group = new RegExp(`<g class="link" data-link="${link}">([\\s\\S]*?)</g>`).exec(svg)?.[1] ?? '';
      expect(group).toContain(`>${link}</text>`);
      expect(unescape(group)).toContain(
        `${link}: ${LINKS[link].from} → ${LINKS[link].to}, through Toxiproxy`,
      );
    }
    // The DNS server is drawn with the service that resolves names through it.
    expect(attributeValues(svg, 'g', 'data-lookup')).toEqual([
      ...new Set(wiring.dnsRecords.map((record) => LINKS[record.link].from)),
    ]);
    expect(svg).not.toContain('data-fault');
  });

  it.each(Object.entries(LANDINGS))('draws %s on what it acts on', (kind, { fault, deployment, on }) => {
    const svg = renderTopologyDiagram(deployment, [{ fault, label: 'the-phase' }]);
    expectWellFormed(svg);
    const marks = faultMarks(svg);
    expect(marks.map((mark) => [mark.on, mark.kind])).toEqual(on.map(({ element }) => [element, kind]));
    for (const [index, expected] of on.entries()) {
      const mark = marks[index];
      if (!mark) throw new Error('no mark');
      expect(mark.markup).toContain(`>${expected.shows}</text>`);
      expect(unescape(mark.markup)).toContain(`<title>the-phase: ${describeFault(fault)}</title>`);
      // A cut is two bars (and the gap between them); a cross is one path drawn twice (halo and mark).
      const shape = mark.markup.includes('<line')
        ? 'cut'
        : mark.markup.includes('<path d=')
          ? 'cross'
          : undefined;
      if (kind === 'latency' || kind === 'dbLatency') {
        expect(mark.markup).toContain('<circle'); // the clock
      } else if (!['crash', 'dnsFailure'].includes(kind)) {
        expect(shape).toBe(expected.shape);
      }
    }
    // The element itself says which kinds act on it.
    const elementKinds = attributeValues(svg, 'g', 'data-fault', 'class="(?:link|node[^"]*)"');
    expect(elementKinds).toEqual(on.map(() => kind));
  });

  it('crosses out a crashed process and shows the DNS failure mode on the DNS server', () => {
    const svg = renderTopologyDiagram('split', [
      { fault: crash('payment-service') },
      { fault: dnsFailure('payment-service', 'timeout') },
    ]);
    expect(svg).toMatch(/<g class="node service" data-node="payment-service" data-fault="crash">/);
    expect(svg).toMatch(/<g class="node dns" data-node="dns-server" data-fault="dnsFailure">/);
    expect(svg).toContain('>payment-service: timeout</text>');
  });

  it('draws nothing for a fault that does not touch the deployment', () => {
    const bare = renderTopologyDiagram('monolith', []);
    const untouched: DiagramFault[] = [
      { fault: partition('payment-api'), label: 'partition' },
      { fault: crash('signup-service') },
      { fault: dnsFailure('payment-service', 'servfail') },
      { fault: dbOutage('split') },
    ];
    expect(renderTopologyDiagram('monolith', untouched)).toBe(bare);
    expect(
      renderTopologyDiagram('split', [
        { fault: crash('monolith') },
        { fault: dbLatency('monolith', { ms: 9 }) },
      ]),
    ).toBe(renderTopologyDiagram('split', []));
  });

  it('draws a fault listed in two phases once, naming both phases', () => {
    const svg = renderTopologyDiagram('split', [
      { fault: partition('payment-api'), label: 'first' },
      { fault: partition('payment-api'), label: 'second' },
    ]);
    const marks = faultMarks(svg);
    expect(marks).toHaveLength(1);
    expect(unescape(marks[0]?.markup ?? '')).toContain(
      `<title>first: ${describeFault(partition('payment-api'))}\nsecond: ${describeFault(partition('payment-api'))}</title>`,
    );
  });

  it('is the same text every time, self-contained, scalable and escaped', () => {
    const faults = Object.values(LANDINGS).map(({ fault }) => ({
      fault,
      label: '<script>alert(1)</script> & "x"',
    }));
    const first = renderTopologyDiagram('split', faults, { title: 'split <b>' });
    expect(renderTopologyDiagram('split', faults, { title: 'split <b>' })).toBe(first);
    expectWellFormed(first);
    expect(first).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" viewBox="0 0 \d+ \d+"/);
    expect(first).not.toMatch(/<script|<\/script|\bhref=|\bsrc=|url\(|<image|<foreignObject|\son[a-z]+=/i);
    expect(first).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot;');
    expect(first).toContain('split &lt;b&gt;');
    // Every badge stays inside the picture.
    const [, width = '0', height = '0'] = /viewBox="0 0 (\d+) (\d+)"/.exec(first) ?? [];
    for (const match of first.matchAll(
      /<rect x="([-\d.]+)" y="([-\d.]+)" width="([\d.]+)" height="([\d.]+)"/g,
    )) {
      const [x, y, w, h] = match.slice(1).map(Number) as [number, number, number, number];
      expect(x).toBeGreaterThanOrEqual(0);
      expect(y).toBeGreaterThanOrEqual(0);
      expect(x + w).toBeLessThanOrEqual(Number(width));
      expect(y + h).toBeLessThanOrEqual(Number(height));
    }
  });
});

describe('faultOfWindow', () => {
  const windowOf = (fault: Fault, withDefinition: boolean): FaultWindow => ({
    fault: fault.kind,
    link: faultTarget(fault),
    description: describeFault(fault),
    // As results.json holds it: plain data, read back through JSON.
    ...(withDefinition ? { definition: JSON.parse(JSON.stringify(fault)) as FaultWindow['definition'] } : {}),
    startS: 10,
    endS: 20,
    deployments: ['split'],
  });
  const everyKind = Object.values(LANDINGS).map(({ fault }) => fault);

  it.each(everyKind.map((fault) => [fault.kind, fault]))('reads %s back from its definition', (_, fault) => {
    expect(faultOfWindow(windowOf(fault, true))).toEqual(fault);
  });

  it.each(everyKind.map((fault) => [fault.kind, fault]))(
    'reads %s back from the description of an older file',
    (_, fault) => {
      expect(faultOfWindow(windowOf(fault, false))).toEqual(fault);
    },
  );

  it('reads a flood recorded before floods had a load model as an open-model one', () => {
    const window = windowOf(flood('signup', { ratePerSecond: 30 }), false);
    expect(
      faultOfWindow({ ...window, definition: { kind: 'flood', route: 'signup', ratePerSecond: 30 } }),
    ).toEqual({ kind: 'flood', route: 'signup', load: { model: 'open', ratePerSecond: 30 } });
  });

  it('draws nothing it would have to guess', () => {
    const window = windowOf(latency('payment-api', { ms: 100 }), false);
    expect(faultOfWindow({ ...window, description: 'slow' })).toBeUndefined();
    expect(faultOfWindow({ ...window, fault: 'meteor' })).toBeUndefined();
    expect(
      faultOfWindow({ ...window, definition: { kind: 'latency', link: 'payment-api' } }),
    ).toBeUndefined();
    expect(
      faultOfWindow({ ...window, definition: { kind: 'partition', link: 'nowhere', direction: 'both' } }),
    ).toBe(undefined);
  });
});

describe('the report', () => {
  it('draws each column its topology with the faults of the timeline that touched it', () => {
    const results = makeReportResults();
    const page = renderRunReport(results);
    const articles = [
      ...page.matchAll(/<article\b[^>]*\bdata-deployment="([^"]+)"[^>]*>([\s\S]*?)<\/article>/g),
    ];
    const column = (name: string) =>
      articles.find((match) => match[1] === name && match[2]?.includes('<figure class="topology">'))?.[2] ??
      '';
    // The fixture partitions payment-api in split only; its window has no definition (an older file).
    expect(column('split')).toMatch(/<g class="fault" data-link="payment-api" data-fault="partition">/);
    expect(column('split')).toContain('<title>partition (20–50 s): ');
    expect(column('monolith')).toContain('<svg xmlns="http://www.w3.org/2000/svg"');
    expect(column('monolith')).not.toContain('data-fault');
  });
});

describe('the documentation diagrams', () => {
  it('are published in docs/images, drawn from the current topology', async () => {
    for (const { path, svg } of documentationDiagrams()) {
      const checkedIn = await readFile(path, 'utf8').catch(() => '');
      if (checkedIn !== svg) {
        expect.fail(
          `${relative(PROJECT_ROOT, path)} is stale: run \`npm run diagrams\` and commit the result`,
        );
      }
    }
  });
});
