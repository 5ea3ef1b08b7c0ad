/** Writes docs/errors.md from the error registry (`npm run docs:errors`); a test checks they agree. */
import { writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { ERROR_REGISTRY, OPTION_ERROR_CODES } from '../src/core/errors.js'

const rows = Object.entries(ERROR_REGISTRY).map(
  ([code, entry]) => `| \`${code}\` | ${entry.status} | ${entry.description} | ${entry.fix} |`,
)
const optionRows = Object.entries(OPTION_ERROR_CODES).map(
  ([code, entry]) => `| \`${code}\` | ${entry.description} | ${entry.fix} |`,
)
const text = `# Error codes

Every error response is JSON \`{ "error": "<code>", "error_description": "<one line>" }\` with the status below.
The codes are stable: a code is never renamed or reused. \`test/unit/error-docs.test.ts\` checks this table against
\`src/core/errors.ts\` in both directions; regenerate it with \`npm run docs:errors\`.

| Code | Status | Description | How to fix |
| --- | --- | --- | --- |
${rows.join('\n')}

## Option errors

Bad options are programmer errors, thrown when the object is created and never sent to a client, so they have no
status. Each is a \`SesameOptionError\`, a \`TypeError\` (so \`instanceof TypeError\` keeps working) with a stable
\`code\` and \`option\`, the option's path. The server's environment variables are checked separately, each refusal
one line naming the variable (see the README's configuration table).

| Code | Description | How to fix |
| --- | --- | --- |
${optionRows.join('\n')}
`
writeFileSync(resolve(import.meta.dirname, '../docs/errors.md'), text)
