#!/bin/sh
# Regenerates the decoder fixtures in crates/media/tests/fixtures: a 1 kHz sine at a peak of
# 0.25 of full scale (-12 dBFS peak, -15 dBFS RMS, about 5790 RMS in 16-bit samples), 1 s long
# unless noted, in every Play format. Needs ffmpeg with libmp3lame and libvorbis
# (Debian: apt-get install ffmpeg). Files are kept small: the tests read them on every run.
set -eu
out="$(dirname "$0")/../crates/media/tests/fixtures"
mkdir -p "$out"
tone() { # rate seconds channels
    echo "aevalsrc=0.25*sin(2*PI*1000*t):s=$1:d=$2:c=$( [ "$3" = 2 ] && echo stereo || echo mono )"
}
gen() { src="$1"; shift; ffmpeg -hide_banner -loglevel error -y -f lavfi -i "$src" \
    -map_metadata -1 -fflags +bitexact -flags:a +bitexact "$@"; }

gen "$(tone 8000 1 1)" -c:a pcm_s16le "$out/tone_pcm16.wav"
gen "$(tone 8000 0.5 1)" -c:a pcm_u8 "$out/tone_u8.wav"
gen "$(tone 8000 1 1)" -c:a pcm_mulaw "$out/tone_ulaw.wav"
gen "$(tone 8000 1 1)" -c:a pcm_alaw "$out/tone_alaw.wav"
gen "$(tone 8000 0.25 1)" -c:a pcm_f32le "$out/tone_f32.wav"
gen "$(tone 8000 0.25 1)" -c:a pcm_s32le "$out/tone_s32.wav"
gen "$(tone 16000 0.1 2)" -c:a pcm_s24le "$out/tone_s24_stereo_16k.wav"
gen "$(tone 8000 0.5 1)" -f mulaw "$out/tone.ul"
gen "$(tone 8000 0.5 1)" -f alaw "$out/tone.al"
gen "$(tone 44100 1 2)" -c:a libmp3lame -b:a 48k "$out/tone.mp3"
gen "$(tone 8000 1 1)" -c:a flac "$out/tone.flac"
gen "$(tone 22050 1 2)" -c:a libvorbis -q:a 0 "$out/tone.ogg"
gen "$(tone 16000 1 1)" -c:a aac -b:a 32k -movflags +faststart "$out/tone.m4a"
gen "$(tone 16000 1 1)" -c:a aac -b:a 32k -f adts "$out/tone.aac"
# moov at the end (ffmpeg's default): the case that needs the whole file before playing.
gen "$(tone 16000 1 1)" -c:a aac -b:a 32k "$out/tone_moov_last.mp4"
ls -l "$out"
