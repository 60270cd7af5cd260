import { Fragment, useCallback, useEffect, useState } from 'react';
import type { AgentClient } from '../../../src/client/agent-client.js';
import type { AudioStatsSample, CallDetail, LegStats, MachineGraph } from '../../../src/shared/rest-types.js';
import { usePolling } from '../hooks/usePolling.js';
import type { Api } from '../lib/api.js';
import { callerLabel, formatDuration, formatTime, outcomeText, stateLabel } from '../lib/format.js';
import { MachineDiagram } from './MachineDiagram.js';
import { MetaCapture } from './MetaCapture.js';
import { MonitorControls } from './MonitorControls.js';
import { RecordingPlayer } from './RecordingPlayer.js';

/** One call's full story for a supervisor: outcome, state path, timeline with routing decisions, audio stats. */
export function CallDrawer({
  api,
  callId,
  onClose,
  monitor,
}: {
  api: Api;
  callId: string;
  onClose: () => void;
  /** Listen / whisper from this drawer (needs the supervisor's socket). */
  monitor?: { client: AgentClient; supervisorId: string; iceServers: RTCIceServer[] } | undefined;
}) {
  const load = useCallback(() => api.call(callId), [api, callId]);
  const { data: call, error } = usePolling(load, 3_000);
  const [cancelError, setCancelError] = useState<string | null>(null);
  const [cancelling, setCancelling] = useState(false);
  const [machine, setMachine] = useState<MachineGraph | null>(null);

  useEffect(() => {
    let live = true;
    api.machine().then(
      (g) => live && setMachine(g),
      () => undefined, // the state path below still tells the story
    );
    return () => {
      live = false;
    };
  }, [api]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') onClose();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [onClose]);

  const cancel = async () => {
    setCancelling(true);
    setCancelError(null);
    try {
      await api.cancelCall(callId);
    } catch (err) {
      setCancelError((err as Error).message);
    } finally {
      setCancelling(false);
    }
  };

  return (
    <div className="drawer-layer">
      <button type="button" className="drawer-backdrop" onClick={onClose} aria-label="Close the call details" />
      <aside className="drawer" data-testid="call-drawer" data-call-id={callId} aria-label="Call details">
        <header className="drawer-head">
          <div>
            <h2>{call ? callerLabel(call.caller) : 'Call'}</h2>
            <div className="cell-sub mono">{callId}</div>
          </div>
          <button type="button" className="btn btn-ghost" onClick={onClose} data-testid="close-drawer">
            Close
          </button>
        </header>
        {error && <p className="banner banner-error">{error}</p>}
        {!call && !error && <p className="muted">Loading…</p>}
        {call && (
          <div className="drawer-body">
            <Summary call={call} />
            {call.state !== 'ended' && (
              <div className="actions">
                <button
                  type="button"
                  className="btn btn-decline"
                  onClick={() => void cancel()}
                  disabled={cancelling}
                  data-testid="cancel-call"
                >
                  {cancelling ? 'Ending…' : 'End this call'}
                </button>
                {cancelError && <span className="banner banner-error">{cancelError}</span>}
              </div>
            )}
            {monitor && call.state === 'live' && <MonitorControls callId={callId} {...monitor} />}
            {call.state === 'ended' && <RecordingPlayer api={api} callId={callId} />}
            {call.state === 'ended' && <MetaCapture api={api} callId={callId} />}
            <StatePath call={call} />
            {machine && (
              <section>
                <h3>Call machine</h3>
                <div className="machine-wrap">
                  <MachineDiagram graph={machine} timeline={call.timeline} current={call.state} />
                </div>
              </section>
            )}
            <Timeline call={call} />
            <StatsTable samples={call.stats} />
          </div>
        )}
      </aside>
    </div>
  );
}

function Summary({ call }: { call: CallDetail }) {
  const rows: [string, string][] = [
    ['State', `${stateLabel(call.state)} (${call.state})`],
    ['Caller', `${callerLabel(call.caller)} · ${call.caller.number}`],
    ['Business number', call.businessNumber],
    ['Agent', call.agentId ?? '—'],
    ['Offered to', call.offeredAgents.join(', ') || '—'],
    ['Declined by', call.declined.join(', ') || '—'],
    ['Routing', routingText(call)],
    ['Arrived', formatTime(call.createdAt)],
    [
      'Answered',
      call.liveAt ? `${formatTime(call.liveAt)} (after ${formatDuration(call.liveAt - call.createdAt)})` : '—',
    ],
    ['Ended', call.endedAt ? `${formatTime(call.endedAt)}` : '—'],
  ];
  if (call.state === 'ended') {
    rows.push(['Outcome', `${outcomeText(call.reason, call.endedBy)} (${call.reason ?? '?'})`]);
  }
  if (call.errorCode) rows.push(['Meta error', String(call.errorCode)]);
  if (call.detail) rows.push(['Detail', call.detail]);
  if (call.mediaNodeId) rows.push(['Media node', call.mediaNodeId]);
  const f = call.flags;
  rows.push([
    'Media',
    `pre-accept ${f.preAcceptDone ? '✓' : '–'} · WhatsApp leg ${f.waConnected ? '✓' : '–'} · agent leg ${f.agentConnected ? '✓' : '–'}${f.acceptFallback ? ' · accept fallback' : ''}`,
  ]);
  if (call.dtmf) rows.push(['DTMF', call.dtmf]);
  if (call.wrapUp) {
    const w = call.wrapUp;
    rows.push(['Wrap-up', `${w.code} by ${w.agentId} at ${formatTime(w.at)}${w.notes ? ` — ${w.notes}` : ''}`]);
  } else if (call.state === 'ended' && call.liveAt) rows.push(['Wrap-up', 'not submitted']);
  return (
    <dl className="kv" data-testid="call-summary">
      {rows.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

/** The current offer's policy, else the last routing decision recorded in the timeline. */
function routingText(call: CallDetail): string {
  if (call.offer) return `${call.offer.policy} · tier ${call.offer.tier}`;
  const last = [...call.timeline].reverse().find((t) => t.event.startsWith('ROUTING.'));
  return last ? `${last.event}${last.detail ? `: ${last.detail}` : ''}` : '—';
}

function StatePath({ call }: { call: CallDetail }) {
  const path: string[] = [];
  for (const t of call.timeline) {
    if (t.to && t.to !== path[path.length - 1]) {
      if (path.length === 0 && t.from) path.push(t.from);
      path.push(t.to);
    }
  }
  if (path.length === 0) path.push(call.state);
  return (
    <section>
      <h3>State path</h3>
      <ol className="state-path" data-testid="state-path">
        {path.map((s, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: a path may revisit a state; entries never reorder
          <Fragment key={`${s}-${i}`}>
            {i > 0 && (
              <li className="sep" aria-hidden="true">
                →
              </li>
            )}
            <li className={`state state-${s}`}>{s}</li>
          </Fragment>
        ))}
      </ol>
    </section>
  );
}

function Timeline({ call }: { call: CallDetail }) {
  const start = call.timeline[0]?.at ?? call.createdAt;
  return (
    <section>
      <h3>Timeline</h3>
      <ol className="timeline" data-testid="call-timeline">
        {call.timeline.map((t, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: entries have no id and never reorder
          <li key={i} className={t.event.startsWith('ROUTING') ? 'routing' : ''}>
            <span className="t-at" title={new Date(t.at).toISOString()}>
              {formatTime(t.at)} <span className="muted">+{((t.at - start) / 1000).toFixed(2)} s</span>
            </span>
            <span className="t-event mono">{t.event}</span>
            {t.from && t.to && t.from !== t.to && (
              <span className="t-trans">
                {t.from} → {t.to}
              </span>
            )}
            {t.detail && <span className="t-detail">{t.detail}</span>}
          </li>
        ))}
      </ol>
    </section>
  );
}

const leg = (s: LegStats | null) =>
  s
    ? [
        s.rttMs === null ? '—' : `${Math.round(s.rttMs)} ms`,
        s.jitterMs === null ? '—' : `${s.jitterMs.toFixed(1)} ms`,
        s.fractionLost !== null
          ? `${(s.fractionLost * 100).toFixed(1)} %`
          : s.packetsLost !== null
            ? String(s.packetsLost)
            : '—',
        s.mos === null ? '—' : s.mos.toFixed(2),
      ]
    : ['—', '—', '—', '—'];

function StatsTable({ samples }: { samples: AudioStatsSample[] }) {
  return (
    <section>
      <h3>Audio quality samples</h3>
      {samples.length === 0 ? (
        <p className="muted">No samples (the media node reports them while a call is bridged).</p>
      ) : (
        <table className="table table-compact" data-testid="call-stats">
          <thead>
            <tr>
              <th rowSpan={2}>At</th>
              <th colSpan={4}>WhatsApp leg</th>
              <th colSpan={4}>Agent leg</th>
            </tr>
            <tr>
              {['RTT', 'Jitter', 'Loss', 'MOS', 'RTT', 'Jitter', 'Loss', 'MOS'].map((h, i) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: fixed header
                <th key={i}>{h}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {samples.map((s) => (
              <tr key={s.at}>
                <td>{formatTime(s.at)}</td>
                {[...leg(s.whatsapp), ...leg(s.agent)].map((v, i) => (
                  // biome-ignore lint/suspicious/noArrayIndexKey: fixed columns
                  <td key={i}>{v}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
