/**
 * A minimal HTML builder whose default is to escape: every value interpolated into {@link html} is
 * escaped unless it is already {@link SafeHtml}. Results come from files anyone can edit, so forgetting
 * to escape must be the hard thing to do, not the easy one.
 */

const SAFE = Symbol('safe-html');

/** Markup that has been escaped or built by {@link html}; only this type is inserted verbatim. */
export interface SafeHtml {
  readonly [SAFE]: true;
  readonly text: string;
}

/** Anything {@link html} accepts as an interpolated value. */
export type HtmlValue = SafeHtml | string | number | boolean | null | undefined | readonly HtmlValue[];

/**
 * Escapes text for use in element content and in quoted attribute values.
 *
 * @example escapeHtml('<b title="x">') // "&lt;b title=&quot;x&quot;&gt;"
 */
export function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

/**
 * Marks a trusted string (CSS, a script this package wrote) as markup. Never pass results data here.
 *
 * @example html`<style>${raw(css)}</style>`
 */
export function raw(text: string): SafeHtml {
  return { [SAFE]: true, text };
}

/**
 * Tagged template that escapes every interpolation; arrays are concatenated, `null`, `undefined` and
 * `false` render as nothing.
 *
 * @example html`<td>${claim.description}</td>`.text
 */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((value, index) => {
    out += toMarkup(value) + (strings[index + 1] ?? '');
  });
  return raw(out);
}

function toMarkup(value: HtmlValue): string {
  if (value === null || value === undefined || value === false) return '';
  if (typeof value === 'object' && SAFE in value) return value.text;
  if (Array.isArray(value)) return value.map((item: HtmlValue) => toMarkup(item)).join('');
  return escapeHtml(String(value));
}

/**
 * Serialises a value for a `<script type="application/json">` block. `<`, `>` and `&` become `\u003c`,
 * `\u003e`, `\u0026` so no string in the data can close the script element or open a comment;
 * `JSON.parse` turns them back into the same characters.
 *
 * @example jsonForScript({ title: '</script>' }) // '{"title":"\\u003c/script\\u003e"}'
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replaceAll('<', '\\u003c')
    .replaceAll('>', '\\u003e')
    .replaceAll('&', '\\u0026')
    .replaceAll('\u2028', '\\u2028')
    .replaceAll('\u2029', '\\u2029');
}

/**
 * Makes trusted JavaScript safe to place inside `<script>...</script>`: the HTML parser ends a script
 * at the first `</script` whatever the JavaScript around it means. Inside JS strings and regular
 * expressions, where such text can legally appear, `<\/` means the same as `</`.
 *
 * @example inlineScript('const s = "</script>"') // 'const s = "<\\/script>"'
 */
export function inlineScript(source: string): string {
  return source.replace(/<\/(script)/gi, '<\\/$1');
}
