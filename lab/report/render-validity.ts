/**
 * Whether the run measured what it meant to measure, at the top of the run page: a red banner for an
 * invalid run (no verdict), an amber one for a degraded measurement (the verdict, to be read with
 * care), a quiet line for a valid one. Reads `results.validity` only; a version 1 file has none and
 * shows nothing.
 */
import type { RunResults, Validity } from '../results.ts';
import { describeProblem } from '../scenario/judge-validity.ts';
import { html, type SafeHtml } from './html.ts';

/** The degraded reasons the banner shows before it points at the load health tables for the rest. */
const DEGRADED_SHOWN = 6;

function problemList(validity: Validity, severity: 'invalid' | 'degraded'): SafeHtml {
  const problems = validity.problems.filter((problem) => problem.severity === severity);
  const shown = severity === 'invalid' ? problems : problems.slice(0, DEGRADED_SHOWN);
  const more = problems.length - shown.length;
  return html`<ul>
    ${shown.map((problem) => html`<li>${describeProblem(problem)}</li>`)}
    ${
      more > 0
        ? html`<li>and ${more} more: see the <a href="#deployments">load health</a> of each deployment.</li>`
        : null
    }
  </ul>`;
}

/**
 * The banner under the verdict: why there is no verdict (invalid), why the verdict should be read with
 * care (degraded), or that the lab saw every fault happen with healthy instruments (valid).
 *
 * @example html`<header>…</header>${renderValidityBanner(results)}`
 */
export function renderValidityBanner(results: RunResults): SafeHtml | null {
  const validity = results.validity;
  if (!validity) return null;
  switch (validity.status) {
    case 'invalid':
      return html`<div class="validity invalid" role="alert" data-validity="invalid">
        <strong class="head"
          >No verdict: the lab could not do what the scenario asked, so this run is invalid.</strong
        >
        <p class="why">
          The figures below are what was measured until the run stopped; they say nothing about the system
          under test. The run exited with code 3.
        </p>
        ${problemList(validity, 'invalid')}
      </div>`;
    case 'degraded':
      return html`<div class="validity degraded" role="status" data-validity="degraded">
        <strong class="head">Measurement degraded: read the verdict with care.</strong>
        <p class="why">
          Every fault was observed, but the lab's own instruments or the machine were disturbed in these
          phases (thresholds in docs/measurements.md):
        </p>
        ${problemList(validity, 'degraded')}
      </div>`;
    case 'valid':
      return html`<p class="validity valid" data-validity="valid">
        ✓ Measurement valid: every planned fault was observed taking effect and being undone, and the load
        generator, the scraper and the machine stayed within their thresholds.
      </p>`;
    default:
      return validity.status satisfies never;
  }
}
