/** The strategy lab's chart: two horizontal bar panels (re-logins per user-day, req/s), as a standalone SVG. */

export interface ChartRow {
  label: string
  reLogins: number
  rps: number
}

const WIDTH = 1040
const LABEL_WIDTH = 430
const PANEL_WIDTH = 270
const ROW_HEIGHT = 26
const TOP = 56

function escapeXml(text: string): string {
  return text.replace(/[&<>"]/g, (char) => `&#${char.charCodeAt(0)};`)
}

function panel(
  rows: ChartRow[],
  x: number,
  title: string,
  value: (row: ChartRow) => number,
  format: (n: number) => string,
  color: string,
): string {
  const max = Math.max(...rows.map(value), 1e-9)
  const bars = rows.map((row, index) => {
    const y = TOP + index * ROW_HEIGHT
    const width = Math.max(1, (value(row) / max) * (PANEL_WIDTH - 60))
    return `<rect x="${x}" y="${y + 5}" width="${width.toFixed(1)}" height="${ROW_HEIGHT - 10}" fill="${color}"/><text x="${(x + width + 6).toFixed(1)}" y="${y + ROW_HEIGHT / 2 + 4}" class="value">${escapeXml(format(value(row)))}</text>`
  })
  return `<text x="${x}" y="${TOP - 14}" class="title">${escapeXml(title)}</text>${bars.join('')}`
}

export function renderChart(rows: ChartRow[]): string {
  const height = TOP + rows.length * ROW_HEIGHT + 24
  const labels = rows.map(
    (row, index) =>
      `<text x="${LABEL_WIDTH - 10}" y="${TOP + index * ROW_HEIGHT + ROW_HEIGHT / 2 + 4}" text-anchor="end" class="label">${escapeXml(row.label)}</text>`,
  )
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}">
<style>text{font-family:system-ui,sans-serif;font-size:12px;fill:#222}.title{font-weight:600;font-size:13px}.value{fill:#444}</style>
<rect width="100%" height="100%" fill="#fff"/>
<text x="12" y="22" class="title">Sesame strategy lab: fewer re-logins is more convenient; more req/s is cheaper to serve</text>
${labels.join('\n')}
${panel(
  rows,
  LABEL_WIDTH,
  'Re-logins per user-day (lower = better)',
  (row) => row.reLogins,
  (n) => n.toFixed(n < 0.01 ? 4 : 2),
  '#d9534f',
)}
${panel(
  rows,
  LABEL_WIDTH + PANEL_WIDTH + 30,
  'Authenticated req/s (higher = better)',
  (row) => row.rps,
  (n) => Math.round(n).toLocaleString('en-US'),
  '#337ab7',
)}
</svg>
`
}
