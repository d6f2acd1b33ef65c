"""Pure domain of orderq: no I/O, no SQL, no UI, no clock reads (time is always passed in)."""
