#!/usr/bin/env python3
"""Counts the interaction records of a bench/sipp/run.sh queue run and checks their recordings.

    tamas interactions --config C --data-dir D --json | check_records.py [--since ISO] [--sample N]

Reads the JSON array on stdin; keeps the records that started at or after --since (UTC,
"2026-11-22T15:50:20.123Z"). Prints `key value` lines for run.sh to read and show:

  records N               records in all (since --since)
  result:R N              per result (queued, abandoned, ...)
  via_queue N             records with the queue `agents`, an agent and a recording path
  recordings_present N    of those, recording files that exist
  recordings_nonempty N   ... and hold audio (a WAV header and at least one frame)
  recordings_bytes N      their total size
  sample_checked N        WAVs opened (up to --sample, spread over the run)
  sample_stereo N         ... that are 2-channel, 16-bit, 8000 Hz
  sample_both_channels N  ... with sound (RMS > 100) on both channels
  sample_example TEXT     the first sample: path, channels, rate, seconds, RMS left/right
  audio_vs_talk R         seconds of audio in all the recordings / talk seconds of their records
                          (below 1: the media worker was late and dropped 20 ms ticks — it sends
                          and records one frame per tick even when late)
  audio_vs_talk_min R     the lowest of one recording
  audio_short N           recordings with less than 95% of their talk time
  talk_mean S, wait_mean S, ring_mean S    over the via_queue records
  wait_max S
Exit status 0 always (the counts are the verdict).
"""
import argparse
import array
import json
import math
import os
import sys
import wave
from collections import Counter


def rms_per_channel(path):
    """(channels, sample width, rate, frames, [rms per channel]) of a WAV file."""
    with wave.open(path) as w:
        ch, width, rate, frames = w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()
        # at most 20 s from the middle: enough to tell silence from sound
        take = min(frames, rate * 20)
        w.setpos((frames - take) // 2)
        raw = w.readframes(take)
    if width != 2 or take == 0:
        return ch, width, rate, frames, []
    a = array.array("h", raw)
    if sys.byteorder == "big":
        a.byteswap()
    out = []
    for c in range(ch):
        s = a[c::ch]
        out.append(math.sqrt(sum(x * x for x in s) / max(len(s), 1)))
    return ch, width, rate, frames, out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--since", default="")
    ap.add_argument("--sample", type=int, default=20)
    args = ap.parse_args()
    records = [r for r in json.load(sys.stdin) if r.get("started_at", "") >= args.since]
    results = Counter(r.get("result", "") for r in records)
    via = [r for r in records if r.get("queue") == "agents" and r.get("agent") and r.get("recording")]
    present = [r for r in via if os.path.isfile(r["recording"])]
    nonempty = [r for r in present if os.path.getsize(r["recording"]) > 44]
    print("records", len(records))
    for k, v in sorted(results.items()):
        print(f"result:{k or '-'}", v)
    print("via_queue", len(via))
    print("recordings_present", len(present))
    print("recordings_nonempty", len(nonempty))
    print("recordings_bytes", sum(os.path.getsize(r["recording"]) for r in present))
    audio = talk = 0.0
    ratios = []
    for r in nonempty:
        try:
            with wave.open(r["recording"]) as w:
                secs = w.getnframes() / max(w.getframerate(), 1)
        except (wave.Error, EOFError, OSError):
            continue
        t = float(r.get("talk_seconds") or 0)
        if t > 0.5:
            audio += secs
            talk += t
            ratios.append(secs / t)
    print("audio_vs_talk", f"{audio / talk:.3f}" if talk else "-")
    print("audio_vs_talk_min", f"{min(ratios):.3f}" if ratios else "-")
    print("audio_short", sum(1 for x in ratios if x < 0.95))
    step = max(1, len(nonempty) // max(args.sample, 1))
    sample = nonempty[::step][: args.sample]
    stereo = both = 0
    example = ""
    for r in sample:
        try:
            ch, width, rate, frames, levels = rms_per_channel(r["recording"])
        except (wave.Error, EOFError, OSError) as e:
            example = example or f"{r['recording']}: {e}"
            continue
        if ch == 2 and width == 2 and rate == 8000 and frames > 0:
            stereo += 1
            if len(levels) == 2 and min(levels) > 100:
                both += 1
        if not example:
            lv = "/".join(f"{x:.0f}" for x in levels)
            example = (f"{r['recording']}: {ch} channels, {8 * width}-bit, {rate} Hz, "
                       f"{frames / max(rate, 1):.1f} s, RMS left/right {lv}")
    print("sample_checked", len(sample))
    print("sample_stereo", stereo)
    print("sample_both_channels", both)
    print("sample_example", example or "-")
    for key in ("talk_seconds", "wait_seconds", "ring_seconds"):
        vals = [float(r.get(key) or 0) for r in via]
        print(key.replace("_seconds", "_mean"), f"{sum(vals) / len(vals):.3f}" if vals else "-")
    waits = [float(r.get("wait_seconds") or 0) for r in records]
    print("wait_max", f"{max(waits):.3f}" if waits else "-")


if __name__ == "__main__":
    main()
