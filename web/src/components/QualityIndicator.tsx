import type { QualitySample, QualityWarning } from '../../../src/client/call-quality.js';

const fmt = (v: number | null, digits: number, unit: string) => (v === null ? '—' : `${v.toFixed(digits)}${unit}`);

const WARN_TEXT: Record<QualityWarning, string> = {
  rtt: 'high delay',
  jitter: 'unsteady audio (jitter)',
  loss: 'packet loss',
  mos: 'low call quality',
};

/** RTT, jitter, loss and the MOS estimate of the agent leg, amber past the thresholds. */
export function QualityIndicator({ quality, phase }: { quality: QualitySample | null; phase: string | null }) {
  const warn = (quality?.warnings.length ?? 0) > 0;
  const level = !quality ? 'unknown' : warn ? 'warn' : 'good';
  const has = (w: QualityWarning) => quality?.warnings.includes(w) ?? false;
  return (
    <div
      className={`quality quality-${level}`}
      data-testid="call-quality"
      data-level={level}
      data-phase={phase ?? 'none'}
    >
      <div className="quality-head">
        <span className="dot" aria-hidden="true" />
        <strong>
          {!quality
            ? phase === 'connected'
              ? 'Measuring connection…'
              : 'Connecting audio…'
            : warn
              ? `Poor connection: ${quality.warnings.map((w) => WARN_TEXT[w]).join(', ')}`
              : 'Good connection'}
        </strong>
      </div>
      <dl className="quality-figures">
        <div className={has('rtt') ? 'bad' : ''}>
          <dt>RTT</dt>
          <dd data-testid="quality-rtt">{fmt(quality?.rttMs ?? null, 0, ' ms')}</dd>
        </div>
        <div className={has('jitter') ? 'bad' : ''}>
          <dt>Jitter</dt>
          <dd data-testid="quality-jitter">{fmt(quality?.jitterMs ?? null, 1, ' ms')}</dd>
        </div>
        <div className={has('loss') ? 'bad' : ''}>
          <dt>Loss</dt>
          <dd data-testid="quality-loss">{fmt(quality?.lossPct ?? null, 1, ' %')}</dd>
        </div>
        <div className={has('mos') ? 'bad' : ''}>
          <dt>MOS</dt>
          <dd data-testid="quality-mos">{fmt(quality?.mos ?? null, 2, '')}</dd>
        </div>
      </dl>
    </div>
  );
}
