/**
 * Text from YAML someone else wrote goes into HTML and inline SVG only through here: markup
 * characters become entities, and control characters (which XML forbids and HTML parses as
 * errors) become U+FFFD, so no value can open a tag, close an attribute or start a script.
 */
export function escapeMarkup(text: string): string {
  return text
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '\ufffd')
    .replace(/[&<>"']/g, (c) => ENTITIES[c]);
}

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', '\'': '&#39;' };

/** `text` cut to `max` characters, with an ellipsis when cut (the full text goes in a tooltip). */
export function truncate(text: string, max: number): string {
  // By code point, so a cut never splits a surrogate pair.
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, Math.max(1, max - 1)).join('')}\u2026`;
}
