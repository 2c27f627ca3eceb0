/**
 * A grouped bar chart as a standalone SVG (no dependency, readable in any browser or on GitHub):
 * panels side by side, one group of bars per route, one bar per server, the mean labelled on
 * each bar and a whisker from the lowest to the highest round.
 */

export interface Bar {
  readonly mean: number
  readonly min: number
  readonly max: number
}

export interface ChartPanel {
  readonly title: string
  /** Appended to the value labels, e.g. "" or " µs". */
  readonly unit: string
  readonly groups: ReadonlyArray<{ readonly label: string; readonly bars: ReadonlyArray<Bar> }>
}

export interface ChartInput {
  readonly title: string
  readonly subtitle: string
  readonly series: ReadonlyArray<{ readonly label: string; readonly color: string }>
  readonly panels: ReadonlyArray<ChartPanel>
}

const escape = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")

/** A round axis step: 1, 2 or 5 times a power of ten, giving about `ticks` gridlines. */
const niceStep = (max: number, ticks: number) => {
  const raw = max / ticks
  const power = 10 ** Math.floor(Math.log10(raw))
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw)
  return step ?? 10 * power
}

const label = (n: number) => (n >= 10 || Number.isInteger(n) ? Math.round(n).toLocaleString("en") : n.toFixed(1))

export const renderChart = (input: ChartInput): string => {
  const panelWidth = 440
  const panelHeight = 300
  const top = 90
  const left = 60
  const gap = 40
  const width = left + input.panels.length * (panelWidth + gap)
  const height = top + panelHeight + 60
  const out: Array<string> = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="${left}" y="24" font-size="16" font-weight="bold">${escape(input.title)}</text>`,
    `<text x="${left}" y="44" fill="#555">${escape(input.subtitle)}</text>`
  ]
  input.series.forEach((s, i) => {
    const x = left + i * 130
    out.push(`<rect x="${x}" y="56" width="12" height="12" fill="${s.color}"/>`)
    out.push(`<text x="${x + 18}" y="66">${escape(s.label)}</text>`)
  })

  input.panels.forEach((panel, p) => {
    const x0 = left + p * (panelWidth + gap)
    const y0 = top + panelHeight
    const highest = Math.max(...panel.groups.flatMap((g) => g.bars.map((b) => Math.max(b.mean, b.max))), 1)
    const step = niceStep(highest, 5)
    const axisMax = Math.ceil(highest / step) * step
    const y = (v: number) => y0 - (v / axisMax) * (panelHeight - 20)

    out.push(`<text x="${x0 + panelWidth / 2}" y="${top - 4}" text-anchor="middle" font-weight="bold">${escape(panel.title)}</text>`)
    for (let v = 0; v <= axisMax + step / 2; v += step) {
      out.push(`<line x1="${x0}" x2="${x0 + panelWidth}" y1="${y(v)}" y2="${y(v)}" stroke="${v === 0 ? "#333" : "#e5e5e5"}"/>`)
      out.push(`<text x="${x0 - 6}" y="${y(v) + 4}" text-anchor="end" fill="#555">${label(v)}</text>`)
    }

    const groupWidth = panelWidth / panel.groups.length
    panel.groups.forEach((group, g) => {
      const barWidth = Math.min(48, (groupWidth - 40) / group.bars.length)
      const start = x0 + g * groupWidth + (groupWidth - barWidth * group.bars.length) / 2
      group.bars.forEach((bar, b) => {
        const x = start + b * barWidth
        const color = input.series[b]?.color ?? "#999"
        out.push(`<rect x="${x + 2}" y="${y(bar.mean)}" width="${barWidth - 4}" height="${y0 - y(bar.mean)}" fill="${color}"/>`)
        const mid = x + barWidth / 2
        if (bar.max > bar.min) {
          out.push(`<line x1="${mid}" x2="${mid}" y1="${y(bar.min)}" y2="${y(bar.max)}" stroke="#222"/>`)
          out.push(`<line x1="${mid - 5}" x2="${mid + 5}" y1="${y(bar.max)}" y2="${y(bar.max)}" stroke="#222"/>`)
          out.push(`<line x1="${mid - 5}" x2="${mid + 5}" y1="${y(bar.min)}" y2="${y(bar.min)}" stroke="#222"/>`)
        }
        out.push(
          `<text x="${mid}" y="${Math.min(y(bar.mean), y(bar.max)) - 5}" text-anchor="middle">${label(bar.mean)}${escape(panel.unit)}</text>`
        )
      })
      out.push(`<text x="${x0 + g * groupWidth + groupWidth / 2}" y="${y0 + 20}" text-anchor="middle">${escape(group.label)}</text>`)
    })
  })
  out.push(
    `<text x="${left}" y="${height - 12}" fill="#555">Bars: mean over the rounds; whiskers: lowest to highest round.</text>`,
    "</svg>",
    ""
  )
  return out.join("\n")
}
