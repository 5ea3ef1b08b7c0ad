// Prints the closing line of `npm test` from vitest's JSON report: `tests: N passed, N failed[, N skipped]`.
// A test file that failed to load (an import error, a throw at the top level) has no failed test in it, and an
// unhandled error fails a run whose tests all passed; both count as failures here, so the line never says
// "0 failed" for a run that exits non-zero.
import { existsSync, readFileSync } from 'node:fs'

const [reportPath, exitStatus] = process.argv.slice(2)
if (reportPath === undefined || !existsSync(reportPath)) {
  console.log('vitest wrote no report')
  console.log('tests: 0 passed, 1 failed')
  process.exit(0)
}
interface FileResult {
  name: string
  status: string
  message?: string
  assertionResults: { status: string }[]
}
interface Report {
  success: boolean
  numPassedTests: number
  numFailedTests: number
  numPendingTests: number
  numTodoTests: number
  testResults: FileResult[]
}

const report = JSON.parse(readFileSync(reportPath, 'utf8')) as Report
const brokenFiles = report.testResults.filter(
  (file) => file.status === 'failed' && !file.assertionResults.some((test) => test.status === 'failed'),
)
for (const file of brokenFiles)
  console.log(`file failed outside any test: ${file.name}: ${firstLine(file.message)}`)
let failed = report.numFailedTests + brokenFiles.length
if (failed === 0 && (Number(exitStatus) !== 0 || report.success === false)) {
  console.log('vitest failed the run outside any test file (an unhandled error: see above)')
  failed = 1
}
printCoverage('.test-data/coverage/coverage-summary.json')
const skipped = report.numPendingTests + report.numTodoTests
console.log(
  `tests: ${report.numPassedTests} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ''),
)

function firstLine(message: string | undefined): string {
  return (message ?? '').split('\n')[0] || 'no message'
}

/** Line coverage of src/ per folder, from vitest's json-summary report (no threshold: it shows where tests are thin). */
function printCoverage(path: string): void {
  if (!existsSync(path)) return
  const summary = JSON.parse(readFileSync(path, 'utf8')) as Record<
    string,
    { lines: { total: number; covered: number } }
  >
  const folders = new Map<string, { total: number; covered: number }>()
  for (const [file, { lines }] of Object.entries(summary)) {
    if (file === 'total') continue
    const folder = 'src' + (/\/src(\/.+)?\/[^/]+$/.exec(file)?.[1] ?? '')
    const entry = folders.get(folder) ?? { total: 0, covered: 0 }
    entry.total += lines.total
    entry.covered += lines.covered
    folders.set(folder, entry)
  }
  console.log('\nline coverage of src/ by folder (tests in this process; child processes not counted):')
  for (const [folder, { total, covered }] of [...folders].sort(([a], [b]) => a.localeCompare(b))) {
    const percent = total === 0 ? 100 : (100 * covered) / total
    console.log(`  ${folder.padEnd(28)} ${percent.toFixed(1).padStart(5)}%  (${covered}/${total} lines)`)
  }
}
