// docs/ecs-mapping.md shows the categorization table of filter/categories.ts: the two stay equal.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { categoriesDoc, withCategoriesDoc, ROWS } from '../../support/categories.js';

describe('docs/ecs-mapping.md and filter/categories.ts', () => {
  it('the doc shows the declaration as it is (else: node --import tsx test/unit/filter/make-categories-doc.ts)', () => {
    const doc = readFileSync(new URL('../../../docs/ecs-mapping.md', import.meta.url), 'utf8');
    const part = categoriesDoc();
    expect(ROWS.length).toBeGreaterThan(0);
    // Every line of the declaration is a row of the doc's table.
    for (const r of ROWS) expect(part).toContain(`| \`${r.pattern}\` |`);
    expect(withCategoriesDoc(doc, part), 'docs/ecs-mapping.md differs from filter/categories.ts').toBe(doc);
  });
});
