/** Credits spent per day as an inline SVG bar chart, rendered on the server (no client JS, no CDN). */
export function SpendChart({ days }: { days: Array<{ day: string; credits: number }> }) {
  const width = 720;
  const height = 180;
  const pad = { top: 12, right: 8, bottom: 24, left: 36 };
  const max = Math.max(1, ...days.map((d) => d.credits));
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const slot = plotW / Math.max(1, days.length);
  const y = (v: number) => pad.top + plotH - (v / max) * plotH;
  const total = days.reduce((s, d) => s + d.credits, 0);
  return (
    <svg
      viewBox={`0 0 ${width} ${height}`}
      width="100%"
      role="img"
      aria-label={`Credits spent per day over the last ${days.length} days: ${total} in all`}
      data-testid="spend-chart"
      style={{ maxWidth: width, background: "#fff", border: "1px solid #e5e5ea", borderRadius: 12 }}
    >
      <line x1={pad.left} x2={width - pad.right} y1={y(0)} y2={y(0)} stroke="#d2d2d7" />
      <text x={pad.left - 6} y={y(max) + 4} textAnchor="end" fontSize="11" fill="#6e6e73">{max}</text>
      <text x={pad.left - 6} y={y(0) + 4} textAnchor="end" fontSize="11" fill="#6e6e73">0</text>
      {days.map((d, i) => {
        const h = y(0) - y(d.credits);
        return (
          <g key={d.day}>
            <rect x={pad.left + i * slot + 1} y={y(d.credits)} width={Math.max(1, slot - 2)} height={h} fill="#4b3fd1" rx={2} data-day={d.day} data-credits={d.credits}>
              <title>{`${d.day}: ${d.credits} credits`}</title>
            </rect>
            {(i === 0 || i === days.length - 1 || i % 7 === 0) && (
              <text x={pad.left + i * slot + slot / 2} y={height - 8} textAnchor="middle" fontSize="10" fill="#6e6e73">{d.day.slice(5)}</text>
            )}
          </g>
        );
      })}
    </svg>
  );
}
