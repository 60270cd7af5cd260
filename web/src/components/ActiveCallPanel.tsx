import { useNow } from '../hooks/useNow.js';
import type { MediaSnapshot } from '../lib/call-media.js';
import { callerLabel, formatDuration, stateLabel } from '../lib/format.js';
import type { ActiveCallView } from '../state/agent-state.js';
import { LevelMeter } from './LevelMeter.js';
import { QualityIndicator } from './QualityIndicator.js';

/** The call in progress: caller, timer, mute, hang up, levels and connection quality. */
export function ActiveCallPanel({
  call,
  media,
  levels,
  hangingUp,
  onHangup,
  onToggleMute,
  onTakeOver,
  onTransfer,
  transferNote,
  held,
  holdBusy,
  onHold,
  onResume,
}: {
  call: ActiveCallView;
  media: MediaSnapshot | null;
  levels: { mic: () => number; caller: () => number };
  hangingUp: boolean;
  onHangup: () => void;
  onToggleMute: () => void;
  onTakeOver: () => void;
  /** Opens the transfer dialog (live calls only). */
  onTransfer?: (() => void) | undefined;
  /** How the call's transfer goes, in words. */
  transferNote?: string | null | undefined;
  /** The caller is on hold (hears music; the microphone is not forwarded). */
  held: boolean;
  holdBusy: boolean;
  onHold: () => void;
  onResume: () => void;
}) {
  const now = useNow(500);
  const live = call.liveAt !== null;
  const elsewhere = call.holder === 'elsewhere';
  const muted = media?.muted ?? false;
  return (
    <article
      className={`card in-call ${live ? 'is-live' : ''}`}
      data-testid="active-call"
      data-call-id={call.callId}
      data-state={call.state}
    >
      <div className="in-call-head">
        <div className="caller">
          <div className="caller-name">{callerLabel(call.from)}</div>
          <div className="caller-number">{call.from.number}</div>
        </div>
        <div className="timer-block">
          <span className={`pill ${live ? 'pill-live' : 'pill-connecting'}`} data-testid="call-state">
            {live ? 'Live' : stateLabel(call.state)}
          </span>
          <span className="call-timer" data-testid="call-timer" data-running={live ? 'true' : 'false'}>
            {live ? formatDuration(now - (call.liveAt ?? now)) : '00:00'}
          </span>
        </div>
      </div>

      <p className="call-status" data-testid="call-status">
        {held ? 'On hold: the caller hears music and cannot hear you.' : statusText(call, media)}
      </p>
      {transferNote && (
        <p className="banner banner-info" data-testid="transfer-status">
          {transferNote}
        </p>
      )}
      {media?.error && (
        <p className="banner banner-error" role="alert" data-testid="media-error">
          {media.error}
        </p>
      )}

      {elsewhere ? (
        <div className="banner banner-info" data-testid="call-elsewhere">
          <span>This call's audio is in another tab of this browser.</span>
          <button type="button" className="btn btn-secondary" onClick={onTakeOver} data-testid="take-over">
            Move audio to this tab
          </button>
        </div>
      ) : (
        <div className="meters">
          <LevelMeter label="Your microphone" read={levels.mic} testId="mic-level" />
          <LevelMeter label="Caller" read={levels.caller} testId="caller-level" />
        </div>
      )}

      {!elsewhere && <QualityIndicator quality={media?.quality ?? null} phase={media?.phase ?? null} />}

      <div className="actions">
        <button
          type="button"
          className={`btn btn-secondary ${muted ? 'is-on' : ''}`}
          data-testid="mute"
          aria-pressed={muted}
          onClick={onToggleMute}
          disabled={elsewhere || !media}
        >
          {muted ? 'Unmute' : 'Mute'}
        </button>
        {live &&
          (held ? (
            <button
              type="button"
              className="btn btn-secondary is-on"
              data-testid="resume-call"
              onClick={onResume}
              disabled={holdBusy}
            >
              Resume
            </button>
          ) : (
            <button
              type="button"
              className="btn btn-secondary"
              data-testid="hold-call"
              onClick={onHold}
              disabled={holdBusy}
            >
              Hold
            </button>
          ))}
        {onTransfer && (
          <button
            type="button"
            className="btn btn-secondary"
            data-testid="transfer-call"
            onClick={onTransfer}
            disabled={!live || elsewhere || call.state === 'transferring'}
          >
            Transfer
          </button>
        )}
        <button type="button" className="btn btn-decline" data-testid="hangup" onClick={onHangup} disabled={hangingUp}>
          {hangingUp ? 'Hanging up…' : 'Hang up'}
        </button>
      </div>
    </article>
  );
}

function statusText(call: ActiveCallView, media: MediaSnapshot | null): string {
  if (call.holder === 'unknown') return 'Resuming the call…';
  if (call.holder === 'elsewhere')
    return call.liveAt ? 'On the call (audio in another tab).' : 'Connecting the caller…';
  const audio =
    media?.phase === 'connected'
      ? 'audio connected'
      : media?.phase === 'reconnecting'
        ? 'reconnecting audio…'
        : media?.phase === 'failed'
          ? 'audio failed'
          : 'connecting audio…';
  if (media?.muted) return `Muted: the caller cannot hear you (${audio}).`;
  return call.liveAt ? `On the call: ${audio}.` : `Connecting the caller: ${audio}`;
}
