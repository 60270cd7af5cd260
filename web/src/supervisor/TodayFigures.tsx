import type { TodayStats } from '../lib/api.js';
import { formatPercent, formatSeconds } from '../lib/format.js';

/** Today's headline figures (UTC day). */
export function TodayFigures({ stats }: { stats: TodayStats | null }) {
  const figures: { label: string; value: string; testId: string; tone?: 'warn' }[] = [
    {
      label: 'Waiting now',
      value: String(stats?.waitingNow ?? '—'),
      testId: 'fig-waiting',
      tone: (stats?.waitingNow ?? 0) > 0 ? 'warn' : undefined,
    },
    { label: 'On calls now', value: String(stats?.onCallsNow ?? '—'), testId: 'fig-active' },
    { label: 'Answered today', value: String(stats?.answered ?? '—'), testId: 'fig-answered' },
    { label: 'Missed', value: String(stats?.missed ?? '—'), testId: 'fig-missed' },
    { label: 'Abandonment', value: formatPercent(stats?.abandonmentRate), testId: 'fig-abandonment' },
    { label: 'Avg. speed of answer', value: formatSeconds(stats?.averageSpeedOfAnswerMs), testId: 'fig-asa' },
    { label: 'Avg. handle time', value: formatSeconds(stats?.averageHandleTimeMs), testId: 'fig-aht' },
    { label: 'Calls today', value: String(stats?.calls ?? '—'), testId: 'fig-calls' },
  ];
  return (
    <section className="figures" data-testid="supervisor-stats" aria-label="Today">
      {figures.map((f) => (
        <div key={f.testId} className={`figure ${f.tone === 'warn' ? 'figure-warn' : ''}`} data-testid={f.testId}>
          <div className="figure-value">{f.value}</div>
          <div className="figure-label">{f.label}</div>
        </div>
      ))}
    </section>
  );
}
