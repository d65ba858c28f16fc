// Writes the Splunk add-on's event-type lookup from the catalog and the ECS categorization (lookup-table.ts).
// Run: node --import tsx test/system/splunk/make-lookup.ts   (--check: exit 1 when the committed file differs instead)
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { LOOKUP_PATH, lookupRows, toCsv } from './lookup-table.js';

const path = fileURLToPath(LOOKUP_PATH);
const rows = lookupRows();
const want = toCsv(rows);
if (process.argv.includes('--check')) {
  const have = existsSync(path) ? readFileSync(path, 'utf8') : '';
  if (have !== want) {
    console.error(
      `${path}: differs from the catalog and filter/categories.ts; ` +
        'run node --import tsx test/system/splunk/make-lookup.ts',
    );
    process.exit(1);
  }
  console.log(`${path}: ${rows.length} event types, as the catalog and filter/categories.ts say`);
} else {
  writeFileSync(path, want);
  console.log(`wrote ${rows.length} event types to ${path}`);
}
