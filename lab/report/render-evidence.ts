/**
 * The observed fault timeline beside the planned one: one timeline row per deployment showing when each
 * phase's faults were read back in effect and gone again, and a table of every step with its lag.
 */
import type { DeploymentResult, FaultEvidence, RunResults } from '../results.ts';
import { orderedDeployments } from './charts.ts';
import { formatMs, formatSeconds } from './format.ts';
import { html, type SafeHtml } from './html.ts';
import { table } from './markup.ts';

/** Where a span sits on the timeline's track, as CSS percentages. */
export type PlaceOnTrack = (startS: number, endS: number) => { left: string; width: string };

/** One phase's faults in one deployment as observed: from the latest apply to the latest undo. */
interface ObservedSpan {
  phase: string;
  startS: number;
  endS: number;
  observed: boolean;
  worstLagMs: number | null;
  steps: FaultEvidence[];
}

function observedSpans(deployment: DeploymentResult, phaseEndS: (phase: string) => number): ObservedSpan[] {
  const byPhase = new Map<string, FaultEvidence[]>();
  for (const entry of deployment.faultEvidence ?? [])
    byPhase.set(entry.phase, [...(byPhase.get(entry.phase) ?? []), entry]);
  return [...byPhase.entries()].map(([phase, steps]) => {
    const applies = steps.filter((entry) => entry.step === 'apply');
    const undos = steps.filter((entry) => entry.step === 'undo');
    // A step never observed is drawn at its planned time, hatched red.
    const latest = (entries: FaultEvidence[]): number =>
      Math.max(...entries.map((entry) => entry.observedAtS ?? entry.plannedAtS));
    const lags = applies.flatMap((entry) => (entry.lagMs === null ? [] : [entry.lagMs]));
    return {
      phase,
      startS: applies.length > 0 ? latest(applies) : 0,
      // A partial deployment may have no undo: the span ends where the phase was planned to.
      endS: undos.length > 0 ? latest(undos) : phaseEndS(phase),
      observed: steps.every((entry) => entry.observed),
      worstLagMs: lags.length > 0 ? Math.max(...lags) : null,
      steps,
    };
  });
}

/**
 * The rows the Timeline section adds under the planned faults: per deployment with evidence, where its
 * faults were observed (green) or not (red, hatched).
 */
export function observedTimelineRows(results: RunResults, place: PlaceOnTrack): SafeHtml[] {
  const phaseEndS = (name: string): number => results.phases.find((phase) => phase.name === name)?.endS ?? 0;
  return orderedDeployments(results)
    .filter((deployment) => (deployment.faultEvidence ?? []).length > 0)
    .map((deployment) => {
      const spans = observedSpans(deployment, phaseEndS);
      const label = `observed · ${deployment.deployment}${deployment.partial ? ' (partial)' : ''}`;
      return html`<div class="row" data-observed="${deployment.deployment}">
        <div class="label observed-label" title="${label}">${label}</div>
        <div class="track">
          ${spans.map((span) => {
            const where = place(span.startS, span.endS);
            const text = span.observed
              ? `${span.phase} ${span.worstLagMs === null ? '' : `+${formatMs(span.worstLagMs)}`}`
              : `✗ ${span.phase}: not observed`;
            const title = span.steps
              .map(
                (step) =>
                  `${step.step} ${step.action}: planned ${formatSeconds(step.plannedAtS)}, ` +
                  (step.observed ? `observed after ${formatMs(step.lagMs)}` : 'NOT observed'),
              )
              .join('\n');
            return html`<div
              class="span ${span.observed ? 'observed' : 'missed'}"
              style="left: ${where.left}; width: ${where.width}"
              title="${title}"
            >
              ${text}
            </div>`;
          })}
        </div>
      </div>`;
    });
}

interface EvidenceRow extends FaultEvidence {
  deployment: string;
}

/** Every planned step of every deployment and what the lab read back, planned vs observed with the lag. */
export function evidenceTable(results: RunResults): SafeHtml | null {
  const rows: EvidenceRow[] = orderedDeployments(results).flatMap((deployment) =>
    (deployment.faultEvidence ?? []).map((entry) => ({ ...entry, deployment: deployment.deployment })),
  );
  if (rows.length === 0) return null;
  return html`<h3>Observed fault timeline</h3>
    <p class="muted small">
      After each apply and each undo the lab read the state back from its own tools (Toxiproxy's API, the DNS
      server, the process or container) until it showed the fault in effect, or gone, for at most 2 s; a flood
      is read from the requests the generator actually sent. Lag is from the planned time on the timeline's
      own clock. A step that was not observed makes the run invalid.
    </p>
    ${table<EvidenceRow>({
      columns: [
        { header: 'Deployment', cell: (row) => row.deployment },
        { header: 'Phase', cell: (row) => row.phase },
        {
          header: 'Action',
          cell: (row) => html`<code>${row.action}</code><br /><span class="muted small">${row.fault}</span>`,
        },
        { header: 'Step', cell: (row) => row.step },
        { header: 'Planned', numeric: true, cell: (row) => formatSeconds(row.plannedAtS) },
        { header: 'Observed', numeric: true, cell: (row) => formatSeconds(row.observedAtS) },
        {
          header: 'Lag',
          numeric: true,
          title: 'observed minus planned',
          cell: (row) => (row.observed ? formatMs(row.lagMs) : html`<span class="bad">not observed</span>`),
        },
        { header: 'What was read back', cellClass: 'small', cell: (row) => row.evidence },
      ],
      rows,
      compact: true,
      rowAttributes: (row): Record<string, string> => (row.observed ? {} : { class: 'not-observed' }),
    })}`;
}
