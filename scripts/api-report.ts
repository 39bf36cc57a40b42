/**
 * Writes the API report: test/api/<entry>.api.txt, the names each entry point of package.json `exports` exports
 * (read from src/ with the TypeScript compiler), one `<kind> <name>` line each. Commit the reports with the change
 * that alters the surface: test/unit/api-report.test.ts fails while they differ, so every change shows in review.
 *
 *   npm run api:report             rewrites the reports (and removes those of entry points that are gone)
 *   npm run api:report -- --check  only compares; exits 1 and prints the difference
 */
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { lineDiff, readApiSurfaces, renderReport } from './api-report/surface.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { check: { type: 'boolean', default: false } } });

const surfaces = readApiSurfaces(root);
const reports = new Map(surfaces.map((surface) => [surface.entry.report, renderReport(surface)]));
const folder = join(root, 'test', 'api');
mkdirSync(folder, { recursive: true });
const stale = readdirSync(folder, { withFileTypes: true })
  .filter((file) => file.isFile() && file.name.endsWith('.api.txt') && !reports.has(`test/api/${file.name}`))
  .map((file) => `test/api/${file.name}`);

let differences = 0;
for (const [report, text] of reports) {
  let current: string | undefined;
  try {
    current = readFileSync(join(root, report), 'utf8');
  } catch {
    current = undefined;
  }
  if (current === text) continue;
  differences += 1;
  if (values.check) {
    console.log(current === undefined ? `${report}: missing` : `${report} differs:\n${lineDiff(current, text)}`);
  } else {
    mkdirSync(dirname(join(root, report)), { recursive: true });
    writeFileSync(join(root, report), text);
    console.log(`wrote ${report}`);
  }
}
for (const report of stale) {
  differences += 1;
  if (values.check) console.log(`${report}: no entry point has it any more`);
  else {
    rmSync(join(root, report));
    console.log(`removed ${report}`);
  }
}
for (const surface of surfaces) {
  for (const reference of surface.unexported) {
    console.log(`${surface.entry.specifier}: ${reference.via} uses ${reference.name} (${reference.declaredIn}), which it does not export`);
  }
}
if (values.check && differences > 0) {
  console.log('The API report is out of date: run `npm run api:report` and review the difference.');
  process.exit(1);
}
if (differences === 0) console.log('the API report is up to date');
