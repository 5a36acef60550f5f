-- Appended to every load script by benchmarks/wrk_load.py (wrk runs one script file).
-- setup: numbers the threads, so a request script can make values no other thread makes.
-- done: prints the run's figures on one line, exact percentiles from wrk's own latency
-- record (microseconds), for benchmarks/wrk_load.py to parse; wrk's text output is not read.

local next_thread_id = 0

function setup(thread)
  thread:set("thread_id", next_thread_id)
  next_thread_id = next_thread_id + 1
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'wrk-figures {"requests": %d, "duration_us": %d, "bytes": %d, "p50_us": %d, "p95_us": %d, ' ..
    '"p99_us": %d, "max_us": %d, "connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max,
    errors.connect, errors.read, errors.write, errors.status, errors.timeout))
end
