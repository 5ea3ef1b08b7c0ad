/**
 * Runs once before the suite: removes the PostgreSQL schemas and Redis key prefixes that a killed earlier run
 * left behind (older than two hours, so a run going on beside this one keeps its own). A server that does not
 * answer is left to the tests that need it to report.
 */
import { removeStaleTestData } from './helpers/shared-stores.js'

export default async function setup(): Promise<void> {
  try {
    const removed = await removeStaleTestData()
    if (removed.length > 0) console.log(`removed ${removed.length} stale test schemas and key prefixes`)
  } catch (error) {
    console.log(
      `could not look for stale test data: ${error instanceof Error ? error.message : String(error)}`,
    )
  }
}
