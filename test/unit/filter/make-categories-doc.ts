// Writes the categorization table of docs/ecs-mapping.md from filter/categories.ts (between its markers).
// Run: node --import tsx test/unit/filter/make-categories-doc.ts   (--check: exit 1 when the doc differs instead)
import { readFileSync, writeFileSync } from 'node:fs';
import { categoriesDoc, withCategoriesDoc } from '../../support/categories.js';

const path = new URL('../../../docs/ecs-mapping.md', import.meta.url);
const doc = readFileSync(path, 'utf8');
const want = withCategoriesDoc(doc, categoriesDoc());
if (process.argv.includes('--check')) {
  if (want !== doc) {
    console.error(
      'docs/ecs-mapping.md: the categories table differs from filter/categories.ts; ' +
        'run node --import tsx test/unit/filter/make-categories-doc.ts',
    );
    process.exit(1);
  }
  console.log('docs/ecs-mapping.md: the categories table matches filter/categories.ts');
} else {
  writeFileSync(path, want);
  console.log(`wrote the categories table to ${path.pathname}`);
}
