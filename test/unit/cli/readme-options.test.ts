// The README's options table is the options table (input/config.ts OPTIONS) rendered, row for row.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderMarkdownTable } from '../../../input/config.js';

describe('README options table', () => {
  it('holds every row of renderMarkdownTable(), and no other option row', () => {
    const option = (l: string): boolean => /^\| (`--|\s+\| `)/.test(l) && /`(JUMPCLOUD|FLUENT_BIT)_/.test(l);
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8')
      .split('\n')
      .filter(option);
    const rows = renderMarkdownTable().split('\n').filter(option);
    expect(rows.length).toBeGreaterThan(40);
    expect(
      readme.filter((l) => !rows.includes(l)),
      'README rows that are no option',
    ).toEqual([]);
    expect(
      rows.filter((l) => !readme.includes(l)),
      'options missing from the README',
    ).toEqual([]);
  });
});
