import { useEffect, useRef } from 'react';

/**
 * A level bar fed by `read()` (0…1) on every animation frame, written straight to the DOM so audio levels do not
 * re-render React 60 times a second.
 */
export function LevelMeter({ label, read, testId }: { label: string; read: () => number; testId: string }) {
  const bar = useRef<HTMLSpanElement>(null);
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    let frame = 0;
    let smoothed = 0;
    const tick = () => {
      const v = read();
      // Fast attack, slow release, like a VU meter.
      smoothed = v > smoothed ? v : smoothed * 0.9 + v * 0.1;
      // Clipped, not scaled, so the green → amber → red scale stays put and only the lit part grows.
      if (bar.current) bar.current.style.clipPath = `inset(0 ${(100 - smoothed * 100).toFixed(1)}% 0 0)`;
      if (host.current) host.current.dataset.level = smoothed.toFixed(2);
      frame = requestAnimationFrame(tick);
    };
    frame = requestAnimationFrame(tick);
    return () => cancelAnimationFrame(frame);
  }, [read]);
  return (
    <div className="meter" ref={host} data-testid={testId} data-level="0">
      <span className="meter-label">{label}</span>
      <div className="meter-track" aria-hidden="true">
        <span ref={bar} className="meter-fill" />
      </div>
    </div>
  );
}
