/**
 * The README is the front door and docs/ the rooms behind it: every relative link in README.md and
 * docs/*.md must lead to a file of the repository, and a link with an anchor to a heading of that
 * file (anchors as GitHub makes them), so a section moved or renamed breaks the suite, not a reader.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const README_LIMIT_BYTES = 20 * 1024;

function markdownFiles(): string[] {
  const docs = readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => join(ROOT, 'docs', f));
  return [join(ROOT, 'README.md'), ...docs];
}

/** The lines of a markdown file outside fenced code blocks (a link in a code sample is not a link). */
function proseLines(text: string): string[] {
  const out: string[] = [];
  let fenced = false;
  for (const line of text.split('\n')) {
    if (/^\s*```/.test(line)) fenced = !fenced;
    else if (!fenced) out.push(line);
  }
  return out;
}

/** GitHub's heading anchors: lower case, inline code marks and punctuation dropped, spaces to '-', repeats numbered. */
function anchorsOf(file: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of proseLines(readFileSync(file, 'utf8'))) {
    const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const base = m[1]!
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

interface Link {
  from: string;
  target: string;
}

function relativeLinks(file: string): Link[] {
  const links: Link[] = [];
  for (const line of proseLines(readFileSync(file, 'utf8'))) {
    // Inline code is not a link either: `[x](y)` in backticks is an example.
    const prose = line.replace(/`[^`]*`/g, '');
    for (const m of prose.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      const target = m[1]!;
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http:, https:, mailto:
      links.push({ from: relative(ROOT, file), target });
    }
  }
  return links;
}

function brokenReason(link: Link): string | null {
  const [path, anchor] = link.target.split('#', 2) as [string, string | undefined];
  const file = path === '' ? join(ROOT, link.from) : join(dirname(join(ROOT, link.from)), decodeURI(path));
  if (!existsSync(file)) return 'no such file';
  if (anchor === undefined) return null;
  if (!statSync(file).isFile() || !file.endsWith('.md')) return 'an anchor into a file that is not markdown';
  return anchorsOf(file).has(anchor) ? null : `no heading with the anchor #${anchor}`;
}

describe('README.md and docs/', () => {
  it('every relative link leads to an existing file and heading', () => {
    const links = markdownFiles().flatMap(relativeLinks);
    // The README alone links to more than a dozen pages: the scan must have found them.
    expect(links.filter((l) => l.from === 'README.md').length).toBeGreaterThan(12);
    const broken = links.flatMap((l) => {
      const reason = brokenReason(l);
      return reason === null ? [] : [`${l.from}: (${l.target}) ${reason}`];
    });
    expect(broken).toEqual([]);
  });

  it('the anchors are computed as GitHub computes them', () => {
    const anchors = anchorsOf(join(ROOT, 'README.md'));
    expect(anchors).toContain('quick-start');
    expect(anchors).toContain('dependencies-and-why');
  });

  it('the README stays a front door: under 20 KB, with a table of contents', () => {
    const readme = readFileSync(join(ROOT, 'README.md'));
    expect(readme.length).toBeLessThan(README_LIMIT_BYTES);
    expect(readme.toString('utf8')).toMatch(/^## Contents$/m);
  });
});
