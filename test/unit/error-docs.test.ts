/** The error codes in code, in docs/errors.md, and in use must agree, in both directions (Fastify's habit). */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ERROR_REGISTRY, OPTION_ERROR_CODES } from '../../src/core/errors.js'

const root = resolve(import.meta.dirname, '../..')

function documentedRows(): Map<string, { status: number; description: string; fix: string }> {
  const rows = new Map<string, { status: number; description: string; fix: string }>()
  for (const line of readFileSync(join(root, 'docs/errors.md'), 'utf8').split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim())
    const code = /^`([a-z_]+)`$/.exec(cells[1] ?? '')?.[1]
    if (code && cells.length === 6)
      rows.set(code, { status: Number(cells[2]), description: cells[3]!, fix: cells[4]! })
  }
  return rows
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : []
  })
}

describe('error codes', () => {
  it('docs/errors.md lists exactly the registry, with the same status, description and fix', () => {
    const rows = documentedRows()
    expect([...rows.keys()].sort()).toEqual(Object.keys(ERROR_REGISTRY).sort())
    for (const [code, entry] of Object.entries(ERROR_REGISTRY)) expect(rows.get(code)).toEqual(entry)
  })

  it('docs/errors.md lists the option error codes in their own table, without a status', () => {
    const text = readFileSync(join(root, 'docs/errors.md'), 'utf8')
    const section = text.slice(text.indexOf('## Option errors'))
    const rows = new Map<string, { description: string; fix: string }>()
    for (const line of section.split('\n')) {
      const cells = line.split('|').map((cell) => cell.trim())
      const code = /^`([a-z_]+)`$/.exec(cells[1] ?? '')?.[1]
      if (code && cells.length === 5) rows.set(code, { description: cells[2]!, fix: cells[3]! })
    }
    expect(Object.fromEntries(rows)).toEqual(OPTION_ERROR_CODES)
    // Not wire codes: none may collide with one.
    for (const code of Object.keys(OPTION_ERROR_CODES)) expect(ERROR_REGISTRY).not.toHaveProperty(code)
  })

  it('every registered code is raised somewhere in src (no dead codes)', () => {
    const source = sourceFiles(join(root, 'src'))
      .filter((path) => !path.endsWith('core/errors.ts'))
      .map((path) => readFileSync(path, 'utf8'))
      .join('\n')
    const unused = Object.keys(ERROR_REGISTRY).filter((code) => !source.includes(`'${code}'`))
    expect(unused).toEqual([])
  })

  it('codes are snake_case', () => {
    for (const code of Object.keys(ERROR_REGISTRY)) expect(code).toMatch(/^[a-z]+(_[a-z]+)*$/)
  })
})
