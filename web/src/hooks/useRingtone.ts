import { useEffect, useRef } from 'react';
import { Ringtone } from '../lib/ringtone.js';

/** Rings while `ringing` is true; stops the moment it turns false (a card went away) or the component unmounts. */
export function useRingtone(ringing: boolean): void {
  const ringtone = useRef<Ringtone | null>(null);
  useEffect(() => {
    if (!ringing) return;
    ringtone.current ??= new Ringtone();
    ringtone.current.start();
    return () => ringtone.current?.stop();
  }, [ringing]);
  useEffect(() => () => ringtone.current?.dispose(), []);
}
