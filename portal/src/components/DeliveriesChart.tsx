// The "Deliveries by status" figure: stacked SVG bars per stats bucket (or the window's totals) and the same numbers as a table.
import type { DeliveryCounts, SeriesBucket, StatsAttributes } from '../types';
import { formatShortDate } from '../format';
import { Time } from './Time';

const STATUSES = ['succeeded', 'failed', 'refused', 'cancelled', 'pending'] as const;

const WIDTH = 640;
const HEIGHT = 180;

function StackedBar({ counts, x, width, max, label }: { counts: DeliveryCounts; x: number; width: number; max: number; label: string }) {
  let y = HEIGHT - 1;
  const plot = HEIGHT - 8;
  return (
    <g>
      <title>{label}</title>
      {STATUSES.map((status) => {
        const height = max ? (counts[status] / max) * plot : 0;
        y -= height;
        return height > 0 ? <rect key={status} class={`bar-${status}`} x={x} y={y} width={width} height={height} /> : null;
      })}
    </g>
  );
}

function describe(counts: DeliveryCounts): string {
  return STATUSES.map((status) => `${counts[status]} ${status}`).join(', ');
}

function SeriesSvg({ series }: { series: SeriesBucket[] }) {
  const max = Math.max(1, ...series.map((bucket) => bucket.deliveries.total));
  const slot = WIDTH / series.length;
  return (
    <>
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} preserveAspectRatio="none" class="chart" aria-hidden="true" focusable="false">
        <line x1={0} x2={WIDTH} y1={HEIGHT - 1} y2={HEIGHT - 1} class="axis" />
        {series.map((bucket, index) => (
          <StackedBar
            key={bucket.start}
            counts={bucket.deliveries}
            x={index * slot + slot * 0.15}
            width={slot * 0.7}
            max={max}
            label={`${formatShortDate(bucket.start)}: ${describe(bucket.deliveries)}`}
          />
        ))}
      </svg>
      {/* Axis labels are HTML so that they stay readable at any width. */}
      <div class="chart-axis" aria-hidden="true">
        <span>{formatShortDate(series[0]!.start)}</span>
        <span>highest bar: {max}</span>
        <span>{formatShortDate(series[series.length - 1]!.end)}</span>
      </div>
    </>
  );
}

function TotalsSvg({ counts }: { counts: DeliveryCounts }) {
  const total = Math.max(1, counts.total);
  let x = 0;
  return (
    <svg viewBox={`0 0 ${WIDTH} 40`} preserveAspectRatio="none" class="chart chart-totals" aria-hidden="true" focusable="false">
      <rect x={0} y={0} width={WIDTH} height={40} class="bar-empty" />
      {STATUSES.map((status) => {
        const width = (counts[status] / total) * WIDTH;
        x += width;
        return width > 0 ? <rect key={status} class={`bar-${status}`} x={x - width} y={0} width={width} height={40} /> : null;
      })}
    </svg>
  );
}

function Legend() {
  return (
    <ul class="legend">
      {STATUSES.map((status) => (
        <li key={status}>
          <span class={`swatch bar-${status}`} aria-hidden="true" />
          {status}
        </li>
      ))}
    </ul>
  );
}

export function DeliveriesChart({ stats }: { stats: StatsAttributes }) {
  const series = Array.isArray(stats.series) && stats.series.length > 0 ? stats.series : null;
  return (
    <figure aria-label="Deliveries by status" class="figure">
      {series ? <SeriesSvg series={series} /> : <TotalsSvg counts={stats.deliveries} />}
      <Legend />
      <figcaption>
        {stats.deliveries.total} deliveries of messages accepted from <Time iso={stats.start} /> to <Time iso={stats.end} />:{' '}
        {describe(stats.deliveries)}.
      </figcaption>
      <details>
        <summary>Numbers</summary>
        <div class="table-scroll" tabIndex={0} role="region" aria-label="Deliveries by status, as numbers">
          <table>
            <thead>
              <tr>
                <th scope="col">{series ? 'From' : 'Window'}</th>
                {STATUSES.map((status) => (
                  <th scope="col" key={status}>{status}</th>
                ))}
                <th scope="col">total</th>
              </tr>
            </thead>
            <tbody>
              {(series ?? [{ start: stats.start, end: stats.end, deliveries: stats.deliveries }]).map((bucket) => (
                <tr key={bucket.start}>
                  <th scope="row">
                    <Time iso={bucket.start} />
                  </th>
                  {STATUSES.map((status) => (
                    <td key={status} class="num">{bucket.deliveries[status]}</td>
                  ))}
                  <td class="num">{bucket.deliveries.total}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}
