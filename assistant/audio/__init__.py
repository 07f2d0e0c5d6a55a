"""Audio in and out: WAV files, voice activity detection, devices and playback."""

SAMPLE_RATE = 16000
"""What the recognizers take: 16 kHz mono signed 16-bit PCM."""
