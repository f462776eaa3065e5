/** How the page writes figures: money exactly as the connector sends it, counts with separators. */

const USD_RE = /^(\d+)(?:\.(\d+))?$/;

/**
 * The exact amount as dollars, punctuated, never rounded: "0.0948" -> "$0.0948", "1234.5" ->
 * "$1,234.50". `minDecimals` pads with zeros (never takes digits away), so a column of charges
 * can line up on the decimal point; a sixth-decimal amount shows all six. Null is a dash.
 */
export function dollars(usd: string | null, minDecimals = 2): string {
  if (usd === null) return '\u2014';
  const m = USD_RE.exec(usd);
  if (!m) return usd;
  const whole = (m[1] ?? '0').replace(/^0+(?=\d)/, '').replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `$${whole}.${(m[2] ?? '').padEnd(minDecimals, '0')}`;
}

export function count(n: number): string {
  return n.toLocaleString('en-US');
}
