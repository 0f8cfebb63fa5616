"""The retry backoff of the s3 library (s3_backoff_ms, through s3-cli): the
delay before retry k is drawn from [1, min(100 ms * 2^(k-1), 5 s)] ("full
jitter", AWS's recommendation): it grows with k, is capped, and spreads
clients that were throttled together.  The fault-proxy pipeline test
(tests/pipelines/s3) shows the retries themselves happen."""
import os
import subprocess

N = 4000
previous_max = 0
for attempt in range(1, 10):
    out = subprocess.run([os.environ["S3_CLI"], "backoff", str(attempt), str(N)],
                         capture_output=True, text=True, check=True).stdout
    delays = [int(x) for x in out.split()]
    cap = min(100 * 2 ** (attempt - 1), 5000)
    assert len(delays) == N
    assert all(1 <= d <= cap for d in delays), (attempt, min(delays), max(delays), cap)
    assert max(delays) > 0.9 * cap, (attempt, max(delays), cap)  # the whole range is used
    assert len(set(delays)) > min(cap, N) // 4, (attempt, len(set(delays)))  # jitter
    assert sum(delays) / N > 0.4 * cap, (attempt, sum(delays) / N)  # ≈ cap/2 on average
    assert max(delays) >= previous_max  # grows with the attempt, then stays capped
    previous_max = max(delays)
print("backoff ok")
