#!/usr/bin/env bash
# (Re)creates the shipped prompts in assets/prompts/en/<name>.opus: Ogg Opus, 48 kHz mono, 20 ms frames, small files.
# Speech comes from espeak-ng, the music loop is synthesized with sox; opusenc encodes both.
# Needs the Debian packages espeak-ng, sox and opus-tools. The names must match PROMPT_NAMES in
# src/media/opus/prompts.ts (a unit test checks that every name has its file).
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in espeak-ng sox opusenc; do
  command -v "$tool" >/dev/null 2>&1 || { echo "make-prompts: $tool is missing (apt-get install espeak-ng sox opus-tools)" >&2; exit 1; }
done

out=assets/prompts/en
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"

# Fixed serial number and settings: re-running the script with the same tool versions gives the same bytes.
encode() { # <wav> <name> <kbit/s> <--speech|--music>
  opusenc --quiet --framesize 20 --bitrate "$3" "$4" --serial 1 --comp 10 "$1" "$out/$2.opus"
}

say() { # <name> <text>
  espeak-ng -v en-us+f3 -s 150 -p 45 -w "$tmp/$1.raw.wav" "$2"
  # espeak speaks at 22.05 kHz: resample, trim its silences, leave a short natural pause after the words.
  sox "$tmp/$1.raw.wav" -r 48000 -b 16 -c 1 "$tmp/$1.wav" \
    silence 1 0.02 0.5% reverse silence 1 0.02 0.5% reverse highpass 120 norm -3 pad 0.04 0.12
  encode "$tmp/$1.wav" "$1" 16 --speech
}

say greeting "Thank you for calling. Please stay on the line."
say menu "Press 1 for sales, 2 for support."
say invalid-choice "Sorry, that is not a valid choice."
say no-choice "We did not receive a choice."
say you-are-number "You are number"
say in-the-queue "in the queue."
say expected-wait "The expected wait is"
say minutes "minutes."
say minute "minute."
say less-than-a-minute "less than a minute."
say more-than "more than"
say more-than-twenty-ahead "There are more than twenty callers ahead of you."
say please-hold "Please hold."
say all-agents-busy "All our agents are busy right now."
say goodbye "Thank you for calling. Goodbye."
say recording-notice "This call may be recorded."
say callback-offer "Press 9 to be called back."
say callback-confirmed "Thank you. We will call you back."
numbers=(zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen
  seventeen eighteen nineteen twenty)
for n in "${!numbers[@]}"; do say "n$n" "${numbers[$n]}"; done

# Music: C – Am – F – G, 6 s per chord (24 s). Each chord is a soft sine pad under a plucked arpeggio at 80 bpm;
# reverb smooths it, and the reverb tail past 24 s is folded back onto the start so the loop joins seamlessly.
chords=("130.81 164.81 196.00 261.63" "110.00 130.81 164.81 220.00" "87.31 110.00 130.81 174.61" "98.00 123.47 146.83 196.00")
i=0
for chord in "${chords[@]}"; do
  read -r f1 f2 f3 f4 <<<"$chord"
  sox -n -r 48000 -b 16 -c 1 "$tmp/pad$i.wav" synth 6 sine "$f1" sine mix "$f2" sine mix "$f3" \
    tremolo 0.25 20 fade q 1.2 6 1.2 lowpass 1500 gain -n -18
  notes=()
  for step in 0 1 2 3 2 1 2 3 0 1 2 3 2 1 2 3; do
    f=$(echo "$chord" | awk -v s="$step" '{ print $(s + 1) * 2 }')
    sox -n -r 48000 -b 16 -c 1 "$tmp/note$i-$step.wav" synth 0.375 pluck "$f" fade q 0.005 0.375 0.3 lowpass 1400 lowpass 1400
    notes+=("$tmp/note$i-$step.wav")
  done
  sox "${notes[@]}" "$tmp/arp$i.wav" gain -n -16
  sox -m -v 1 "$tmp/pad$i.wav" -v 1 "$tmp/arp$i.wav" "$tmp/chord$i.wav"
  i=$((i + 1))
done
sox "$tmp"/chord{0,1,2,3}.wav "$tmp/music-dry.wav" pad 0 3 reverb 45 50 80 channels 1
sox "$tmp/music-dry.wav" "$tmp/body.wav" trim 0 24
sox "$tmp/music-dry.wav" "$tmp/tail.wav" trim 24
sox -m -v 1 "$tmp/body.wav" -v 1 "$tmp/tail.wav" "$tmp/music-loop.wav" trim 0 24 fade q 0.02 24 0.02 norm -6
encode "$tmp/music-loop.wav" music 20 --music

du -ch "$out"/*.opus | tail -1
